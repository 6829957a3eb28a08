import type { TensorInfo } from '@tensorflow/tfjs';
import type { Prims, SpatialPads } from '../prims.js';
import type { ConvGeometry } from './geometry.js';

/**
 * Convolution gradients expressed with forward convolutions, so that each backend's fast forward
 * kernels do the work (XNNPACK on wasm). All tensors are NHWC (see `ConvGeometry`).
 */

/** Crops `x` (NHWC) on the spatial axes by the given non-negative amounts; returns `x` itself when nothing is cropped. */
function cropSpatial(P: Prims, x: TensorInfo, top: number, bottom: number, left: number, right: number): TensorInfo {
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return x;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  return P.slice(x, [0, top, left, 0], [n, h - top - bottom, w - left - right, c]);
}

/** Keeps the first `h` rows and `w` columns of `x` (NHWC), freeing `x` when a copy is made. */
function keepLeading(P: Prims, x: TensorInfo, h: number, w: number): TensorInfo {
  const [, xh, xw] = x.shape as [number, number, number, number];
  const out = cropSpatial(P, x, 0, xh - h, 0, xw - w);
  if (out !== x) P.dispose(x);
  return out;
}

/**
 * Gradient w.r.t. the input: a stride-1 convolution (same dilation) of the zero-interleaved,
 * re-padded dy with the spatially flipped filter (in/out channels swapped for regular convolutions).
 */
export function convBackpropInput(P: Prims, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const dyC = g.outC;
  // Zero insertion for strides: [N,Ho,1,Wo,1,C] padded after each row/column, then merged.
  let up = dy;
  let upH = g.outH;
  let upW = g.outW;
  if (g.sh > 1 || g.sw > 1) {
    const r6 = P.reshape(dy, [g.batch, g.outH, 1, g.outW, 1, dyC]);
    const p6 = P.pad(r6, [
      [0, 0],
      [0, 0],
      [0, g.sh - 1],
      [0, 0],
      [0, g.sw - 1],
      [0, 0],
    ]);
    P.dispose(r6);
    upH = g.outH * g.sh;
    upW = g.outW * g.sw;
    up = P.reshape(p6, [g.batch, upH, upW, dyC]);
    P.dispose(p6);
  }
  // dx[h] = Σ_p up[h + top − p·dh] f[p]  ⇒  pad `up` by (kh−1)·dh − top above and inH − upH + top below.
  const top = (g.kh - 1) * g.dh - g.padTop;
  const bottom = g.inH - upH + g.padTop;
  const left = (g.kw - 1) * g.dw - g.padLeft;
  const right = g.inW - upW + g.padLeft;
  const cropped = cropSpatial(P, up, Math.max(0, -top), Math.max(0, -bottom), Math.max(0, -left), Math.max(0, -right));
  if (cropped !== up && up !== dy) P.dispose(up);
  const pads: SpatialPads = [
    [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)],
  ];

  let out: TensorInfo;
  if (g.depthwise) {
    const flipped = P.reverse(filter, [0, 1]);
    const f = P.reshape(flipped, [g.kh, g.kw, g.outC, 1]);
    P.dispose(flipped);
    out = P.depthwise(cropped, f, [1, 1], [g.dh, g.dw], pads);
    P.dispose(f);
    if (g.multiplier > 1) {
      // Channel c·M+m of the result belongs to input channel c: sum over m.
      const r5 = P.reshape(out, [g.batch, g.inH, g.inW, g.inC, g.multiplier]);
      P.dispose(out);
      out = P.sum(r5, [4]);
      P.dispose(r5);
    }
  } else {
    const swapped = P.transpose(filter, [0, 1, 3, 2]);
    const f = P.reverse(swapped, [0, 1]);
    P.dispose(swapped);
    out = P.conv2d(cropped, f, [1, 1], [g.dh, g.dw], pads);
    P.dispose(f);
  }
  if (cropped !== dy) P.dispose(cropped);
  return out;
}

/** Bottom/right padding of x so that the gradient convolution yields at least kh×kw taps. */
function filterGradPads(g: ConvGeometry): { bottom: number; right: number } {
  const needH = (g.kh - 1) * g.dh + (g.outH - 1) * g.sh + 1;
  const needW = (g.kw - 1) * g.dw + (g.outW - 1) * g.sw + 1;
  return { bottom: Math.max(0, needH - g.inH - g.padTop), right: Math.max(0, needW - g.inW - g.padLeft) };
}

/**
 * Gradient w.r.t. a regular filter: dF[p,q,c,o] = Σ_{n,i,j} x[n, i·sh + p·dh − top, j·sw + q·dw − left, c] dy[n,i,j,o],
 * i.e. a convolution of xᵀ ([C,H,W,N], batch C) with dyᵀ ([Ho,Wo,N,Co] as filter), stride = dilation, dilation = stride.
 * With width stride 1 the width and batch axes are folded into the channels (one convolution per filter column q),
 * so that each tap reduces over W·N channels instead of N: far better use of the GEMM micro-kernels.
 */
export function conv2dBackpropFilter(P: Prims, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const { bottom, right } = filterGradPads(g);
  const xT = P.transpose(x, [3, 1, 2, 0]); // [C, H, W, N]
  const dyT = P.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, Co]
  let grad: TensorInfo; // [C, kh, kw, Co]
  if (g.sw === 1) {
    const wp = g.inW + g.padLeft + right;
    const xp = P.pad(xT, [
      [0, 0],
      [0, 0],
      [g.padLeft, right],
      [0, 0],
    ]);
    const input = P.reshape(xp, [g.inC, g.inH, 1, wp * g.batch]);
    P.dispose(xp);
    const columns: TensorInfo[] = [];
    for (let q = 0; q < g.kw; q++) {
      // Column q: dy shifted right by q·dw inside the padded width.
      const shifted = P.pad(dyT, [
        [0, 0],
        [q * g.dw, wp - g.outW - q * g.dw],
        [0, 0],
        [0, 0],
      ]);
      const f = P.reshape(shifted, [g.outH, 1, wp * g.batch, g.outC]);
      P.dispose(shifted);
      const col = P.conv2d(
        input,
        f,
        [g.dh, 1],
        [g.sh, 1],
        [
          [g.padTop, bottom],
          [0, 0],
        ],
      );
      P.dispose(f);
      columns.push(keepLeading(P, col, g.kh, 1));
    }
    P.dispose(input);
    if (columns.length === 1) {
      grad = columns[0] as TensorInfo;
    } else {
      grad = P.concat(columns, 2);
      for (const c of columns) P.dispose(c);
    }
  } else {
    const full = P.conv2d(
      xT,
      dyT,
      [g.dh, g.dw],
      [g.sh, g.sw],
      [
        [g.padTop, bottom],
        [g.padLeft, right],
      ],
    );
    grad = keepLeading(P, full, g.kh, g.kw);
  }
  P.dispose(xT);
  P.dispose(dyT);
  const out = P.transpose(grad, [1, 2, 0, 3]);
  P.dispose(grad);
  return out;
}

/**
 * Gradient w.r.t. a depthwise filter: the batch is moved into the channels ([1,H,W,N·C·M]) and
 * convolved depthwise with dyᵀ ([Ho,Wo,N·C·M,1]) as the filter, then summed over the batch.
 */
export function depthwiseBackpropFilter(P: Prims, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const { bottom, right } = filterGradPads(g);
  const m = g.multiplier;
  const channels = g.batch * g.outC;
  const xT = P.transpose(x, [1, 2, 0, 3]); // [H, W, N, C]
  let input: TensorInfo;
  if (m > 1) {
    // Repeat each input channel M times so that channel (n, c, m) of the input meets dy's channel (n, c·M+m).
    // Rank 4 (H·W, N, C, 1): tfjs-backend-webgpu tiles rank 5 on the CPU, through a synchronous read.
    const x4 = P.reshape(xT, [g.inH * g.inW, g.batch, g.inC, 1]);
    const tiled = P.tile(x4, [1, 1, 1, m]);
    P.dispose(x4);
    input = P.reshape(tiled, [1, g.inH, g.inW, channels]);
    P.dispose(tiled);
  } else {
    input = P.reshape(xT, [1, g.inH, g.inW, channels]);
  }
  P.dispose(xT);
  const dyT = P.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, C·M]
  const f = P.reshape(dyT, [g.outH, g.outW, channels, 1]);
  P.dispose(dyT);
  const full = P.depthwise(
    input,
    f,
    [g.dh, g.dw],
    [g.sh, g.sw],
    [
      [g.padTop, bottom],
      [g.padLeft, right],
    ],
  );
  P.dispose(input);
  P.dispose(f);
  const taps = keepLeading(P, full, g.kh, g.kw); // [1, kh, kw, N·C·M]
  let perChannel: TensorInfo;
  if (g.batch > 1) {
    const r = P.reshape(taps, [g.kh, g.kw, g.batch, g.outC]);
    P.dispose(taps);
    perChannel = P.sum(r, [2]);
    P.dispose(r);
  } else {
    perChannel = taps;
  }
  const out = P.reshape(perChannel, [g.kh, g.kw, g.inC, m]);
  P.dispose(perChannel);
  return out;
}
