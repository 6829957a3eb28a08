import type { TapOuterStrided } from '../wasm-simd/module.js';
import type { ConvGeometry } from './geometry.js';
import { forEachValidTap, heapStrides } from './valid-taps.js';

/**
 * Regular input gradient straight on the wasm backend's heap (NHWC):
 *   dx[n, i·sh − top + p·dh, j·sw − left + q·dw, c] += Σ_o dy[n,i,j,o] · W[p,q,c,o]
 * for every tap (p, q) and valid output pixel (i, j). With the filter transposed to [kh, kw, Co, Ci]
 * (`filterT`), each tap over a run of output pixels is one `tapOuterStrided` call: the run's pixels
 * are its rows (dy pixels Co floats apart, dx pixels sw·Ci apart), the output channels its sum, Ci
 * its vector lanes. No zero insertion, padding or transposes of dy: no fixed costs beyond the calls.
 */

/**
 * Input gradient (Ci a multiple of 4) with `tapOuterStrided` over the heap. `dx` must be zero on
 * entry. Offsets are byte offsets into the memory the function is bound to.
 */
export function convInputGradSimd(tapOuter: TapOuterStrided, dyOffset: number, filterTOffset: number, dxOffset: number, g: ConvGeometry): void {
  const ci = g.inC;
  const co = g.outC;
  const { xRow, xImage, dyRow, dyImage } = heapStrides(g, ci, co);
  forEachValidTap(g, ({ p, q, shiftH, shiftW, i0, i1, j0, j1 }) => {
    const cols = j1 - j0;
    const w = filterTOffset + 4 * (p * g.kw + q) * co * ci;
    const call = (n: number, i: number, pixels: number) =>
      tapOuter(
        dyOffset + 4 * (n * dyImage + i * dyRow + j0 * co),
        w,
        dxOffset + 4 * (n * xImage + (i * g.sh + shiftH) * xRow + (j0 * g.sw + shiftW) * ci),
        1,
        0,
        0,
        co,
        4,
        4 * ci,
        pixels,
        4 * ci,
        4 * co,
        4 * g.sw * ci,
      );
    // Whole rows at stride 1: consecutive rows are one run of pixels in both dy and dx (and whole
    // images too when every row is valid and the sizes agree).
    const wholeRows = g.sh === 1 && g.sw === 1 && cols === g.outW && cols === g.inW;
    if (wholeRows && i0 === 0 && i1 === g.outH && g.outH === g.inH) {
      call(0, 0, g.batch * g.outH * cols);
      return;
    }
    for (let n = 0; n < g.batch; n++) {
      if (wholeRows) {
        call(n, i0, (i1 - i0) * cols);
        continue;
      }
      for (let i = i0; i < i1; i++) call(n, i, cols);
    }
  });
}
