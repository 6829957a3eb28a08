import type { ConvGeometry } from './geometry.js';

/**
 * Per filter tap, the rectangle of output pixels whose input under that tap lies inside the image,
 * computed once so that the SIMD loops over it need no per-pixel bounds tests.
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
