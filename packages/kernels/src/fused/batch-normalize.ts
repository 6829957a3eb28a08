import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { heapWorkspace, offsetOf, simdOnHeap, type HeapSimd } from '../wasm-heap.js';
import { arrayAccess } from './array-access.js';

/**
 * AdlBatchNormalize: non-affine batch normalisation with batch statistics of a [G, P, C] tensor (G
 * groups normalised separately); outputs y and the inverse deviation [G, C]. Two passes. On wasm with
 * SIMD (C a multiple of 4) the channel sums run as `tapReduce` and the per-channel affine maps as
 * `channelAffine` on the heap, two-pass statistics (mean, then the mean of squared deviations)
 * summed in float32 like tfjs' own kernels; elsewhere plain loops with float64 sums. The composite
 * form costs several kernels per pass, some slow on wasm (a mean over a middle axis transposes the
 * whole tensor first; a [G, P, C] · [G, 1, C] product takes a generic broadcast path).
 */

export interface BatchNormAttrs {
  groups: number;
  epsilon: number;
}

export function groupShape(x: TensorInfo, groups: number): [number, number, number] {
  const c = x.shape[x.shape.length - 1]!;
  const size = x.shape.reduce((a, b) => a * b, 1);
  const pixels = size / c / groups;
  if (!Number.isInteger(pixels)) throw new Error(`AdlBatchNormalize: shape [${x.shape}] does not split into ${groups} groups`);
  return [groups, pixels, c];
}

function batchNormalizeSimd({ k, b }: HeapSimd, x: TensorInfo, [g, p, c]: [number, number, number], epsilon: number): TensorInfo[] {
  const yInfo = b.makeOutput([...x.shape], 'float32');
  const invInfo = b.makeOutput([g, c], 'float32');
  // Rows: ones, zeros, sums, −mean.
  const work = heapWorkspace(b, 4, c);
  work.values.fill(1, 0, c);
  const inv = b.typedArrayFromHeap(invInfo);
  const [xo, yo, invo] = [offsetOf(b, x), offsetOf(b, yInfo), offsetOf(b, invInfo)];
  const { row } = work;
  const w = work.values;
  const cb = 4 * c;
  for (let group = 0; group < g; group++) {
    const [xg, yg] = [xo + group * p * cb, yo + group * p * cb];
    w.fill(0, 2 * c, 3 * c);
    k.tapReduce(xg, row(0), row(2), 1, 0, 0, p, cb, 0, cb);
    for (let i = 0; i < c; i++) w[3 * c + i] = -w[2 * c + i]! / p;
    k.channelAffine(xg, xg, yg, row(0), row(1), row(3), p, cb, cb, cb, cb); // x − mean
    w.fill(0, 2 * c, 3 * c);
    k.tapReduce(yg, yg, row(2), 1, 0, 0, p, cb, cb, cb);
    for (let i = 0; i < c; i++) inv[group * c + i] = 1 / Math.sqrt(w[2 * c + i]! / p + epsilon);
    k.channelAffine(yg, yg, yg, invo + group * cb, row(1), row(1), p, cb, cb, cb, cb);
  }
  work.dispose();
  return [yInfo, invInfo];
}

export const batchNormalizeKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = (inputs as { x: TensorInfo }).x;
  const { groups, epsilon } = attrs as unknown as BatchNormAttrs;
  const [g, p, c] = groupShape(x, groups);
  const simd = c % 4 === 0 ? simdOnHeap(backend) : null;
  if (simd) return batchNormalizeSimd(simd, x, [g, p, c], epsilon);
  const access = arrayAccess(backend as KernelBackend);
  const yInfo = access.output([...x.shape]);
  const invInfo = access.output([g, c]);
  const [xs, ys, inv] = [access.view(x), access.view(yInfo), access.view(invInfo)];
  for (let group = 0; group < g; group++) {
    const base = group * p * c;
    const end = base + p * c;
    // Channel by channel with the sums in registers (strided reads stay in cache: a group's
    // block is read c times in a row).
    for (let k = 0; k < c; k++) {
      let sum = 0;
      let squares = 0;
      for (let i = base + k; i < end; i += c) {
        const v = xs[i]!;
        sum += v;
        squares += v * v;
      }
      const mean = sum / p;
      const scale = 1 / Math.sqrt(Math.max(0, squares / p - mean * mean) + epsilon);
      inv[group * c + k] = scale;
      for (let i = base + k; i < end; i += c) ys[i] = (xs[i]! - mean) * scale;
    }
  }
  return [yInfo, invInfo];
};
