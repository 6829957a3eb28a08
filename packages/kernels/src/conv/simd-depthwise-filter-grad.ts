import type { TapReduce } from '../wasm-simd/module.js';
import type { ConvGeometry } from './geometry.js';
import { forEachValidTap, heapStrides } from './valid-taps.js';

/**
 * Depthwise filter gradient straight on the wasm backend's heap (NHWC, multiplier 1):
 *   dF[p,q,c] = Σ_{n,i,j} x[n, i·sh − top + p·dh, j·sw − left + q·dw, c] · dy[n,i,j,c].
 * For each tap the valid output rows/columns form a rectangle (computed once, so no per-pixel
 * bounds tests), and each (tap, image) rectangle is reduced by the SIMD `tapReduce`.
 */

/**
 * Depthwise filter gradient (multiplier 1, C a multiple of 4) with the SIMD `tapReduce` over the heap:
 * one call per tap and image, each reducing all valid rows × columns. `out` must be zero on entry.
 * Offsets are byte offsets into the memory `tapReduce` is bound to.
 */
export function depthwiseFilterGradSimd(tapReduce: TapReduce, xOffset: number, dyOffset: number, outOffset: number, g: ConvGeometry): void {
  const C = g.inC;
  const { xRow, xImage, dyRow, dyImage } = heapStrides(g, C, C);
  forEachValidTap(g, ({ p, q, shiftH, shiftW, i0, i1, j0, j1 }) => {
    const acc = outOffset + 4 * (p * g.kw + q) * C;
    for (let n = 0; n < g.batch; n++) {
      tapReduce(
        xOffset + 4 * (n * xImage + (i0 * g.sh + shiftH) * xRow + (j0 * g.sw + shiftW) * C),
        dyOffset + 4 * (n * dyImage + i0 * dyRow + j0 * C),
        acc,
        i1 - i0,
        4 * g.sh * xRow,
        4 * dyRow,
        j1 - j0,
        4 * g.sw * C,
        4 * C,
        4 * C,
      );
    }
  });
}
