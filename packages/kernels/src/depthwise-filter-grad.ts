import type { ConvGeometry } from './conv-backprop.js';
import type { TapReduce } from './simd-reduce.js';

/**
 * Depthwise filter gradient straight on the wasm backend's heap (NHWC, multiplier 1):
 *   dF[p,q,c] = Σ_{n,i,j} x[n, i·sh − top + p·dh, j·sw − left + q·dw, c] · dy[n,i,j,c].
 * For each tap the valid output rows/columns form a rectangle (computed once, so no per-pixel
 * bounds tests), and each (tap, image) rectangle is reduced by the SIMD `tapReduce`.
 */

/** The output rows i (or columns j) whose tap at offset `shift` = p·d − pad falls inside [0, size): [start, end). */
export function validRange(out: number, stride: number, shift: number, size: number): [number, number] {
  // Need 0 ≤ i·s + shift ≤ size − 1.
  const start = shift >= 0 ? 0 : Math.ceil(-shift / stride);
  const end = Math.min(out, Math.floor((size - 1 - shift) / stride) + 1);
  return [start, Math.max(start, end)];
}

/** Element strides of NHWC x (Ci channels) and dy (Co channels) on the heap. */
export function heapStrides(g: ConvGeometry, xChannels: number, dyChannels: number) {
  const xRow = g.inW * xChannels;
  const dyRow = g.outW * dyChannels;
  return { xRow, xImage: g.inH * xRow, dyRow, dyImage: g.outH * dyRow };
}

/** One filter tap and the rectangle of output pixels whose input under that tap lies inside the image. */
export interface ValidTap {
  p: number;
  q: number;
  shiftH: number;
  shiftW: number;
  /** Valid output rows [i0, i1) and columns [j0, j1), never empty. */
  i0: number;
  i1: number;
  j0: number;
  j1: number;
}

/** Calls `visit` for every tap (p, q) of the geometry that touches the image, in row-major tap order. */
export function forEachValidTap(g: ConvGeometry, visit: (tap: ValidTap) => void): void {
  for (let p = 0; p < g.kh; p++) {
    const shiftH = p * g.dh - g.padTop;
    const [i0, i1] = validRange(g.outH, g.sh, shiftH, g.inH);
    if (i1 <= i0) continue;
    for (let q = 0; q < g.kw; q++) {
      const shiftW = q * g.dw - g.padLeft;
      const [j0, j1] = validRange(g.outW, g.sw, shiftW, g.inW);
      if (j1 > j0) visit({ p, q, shiftH, shiftW, i0, i1, j0, j1 });
    }
  }
}

/**
 * Depthwise filter gradient (multiplier 1, C a multiple of 4) with the SIMD `tapReduce` over the heap:
 * one call per tap and image, each reducing all valid rows × columns. `out` must be zero on entry.
 * Offsets are byte offsets into the memory `tapReduce` is bound to.
 */
export function depthwiseFilterGradSimd(
  tapReduce: TapReduce,
  xOffset: number,
  dyOffset: number,
  outOffset: number,
  g: ConvGeometry,
): void {
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
