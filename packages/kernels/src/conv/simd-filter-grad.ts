import type { TapOuter } from '../wasm-simd/module.js';
import type { ConvGeometry } from './geometry.js';
import { forEachValidTap, heapStrides } from './valid-taps.js';

/**
 * Regular filter gradient straight on the wasm backend's heap (NHWC, filter [kh, kw, Ci, Co]):
 *   dW[p,q,c,o] = Σ_{n,i,j} x[n, i·sh − top + p·dh, j·sw − left + q·dw, c] · dy[n,i,j,o].
 * Per tap, the valid output rows/columns form a rectangle (computed once, as for the depthwise
 * gradient), and the SIMD `tapOuter` adds Σ x·dyᵀ over it into the tap's [Ci, Co] block of dW.
 */

/**
 * Bytes of x and dy one call should sweep: every (input × output channel) block re-reads the pixels
 * of the call, so calls cover at most this much to keep those re-reads in the core's L2 cache.
 */
const CALL_BYTES = 192 * 1024;

/**
 * Regular filter gradient (Co a multiple of 4) with `tapOuter` over the heap. `out` must be zero on
 * entry. Offsets are byte offsets into the memory `tapOuter` is bound to.
 */
export function convFilterGradSimd(tapOuter: TapOuter, xOffset: number, dyOffset: number, outOffset: number, g: ConvGeometry): void {
  const ci = g.inC;
  const co = g.outC;
  const { xRow, xImage, dyRow, dyImage } = heapStrides(g, ci, co);
  forEachValidTap(g, ({ p, q, shiftH, shiftW, i0, i1, j0, j1 }) => {
    const cols = j1 - j0;
    const acc = outOffset + 4 * (p * g.kw + q) * ci * co;
    // Whole rows of both x and dy, stride 1: consecutive rows are contiguous, so a block of rows
    // is one run of pixels (fewer loop restarts for small widths).
    const contiguous = g.sh === 1 && g.sw === 1 && cols === g.outW && cols === g.inW;
    const rowsPerCall = Math.max(1, Math.floor(CALL_BYTES / (4 * cols * (ci + co))));
    for (let n = 0; n < g.batch; n++) {
      for (let r0 = i0; r0 < i1; r0 += rowsPerCall) {
        const rows = Math.min(rowsPerCall, i1 - r0);
        const x = xOffset + 4 * (n * xImage + (r0 * g.sh + shiftH) * xRow + (j0 * g.sw + shiftW) * ci);
        const dy = dyOffset + 4 * (n * dyImage + r0 * dyRow + j0 * co);
        if (contiguous) {
          tapOuter(x, dy, acc, 1, 0, 0, rows * cols, 4 * ci, 4 * co, ci, 4 * co);
        } else {
          tapOuter(x, dy, acc, rows, 4 * g.sh * xRow, 4 * dyRow, cols, 4 * g.sw * ci, 4 * co, ci, 4 * co);
        }
      }
    }
  });
}
