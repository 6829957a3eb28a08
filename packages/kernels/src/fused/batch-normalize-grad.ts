import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { heapWorkspace, offsetOf, simdOnHeap, type HeapSimd } from '../wasm-heap.js';
import { arrayAccess } from './array-access.js';
import { groupShape, type BatchNormAttrs } from './batch-normalize.js';

/**
 * AdlBatchNormalizeGrad: the gradient of AdlBatchNormalize from dy, y and the inverse deviation,
 *   dx = (dy − mean(dy) − y · mean(dy·y)) · inv   per group and channel.
 * Two passes; on wasm with SIMD (C a multiple of 4) the sums by `tapReduce` and the map by
 * `channelAffine` on the heap, elsewhere plain loops with float64 sums.
 */

function batchNormalizeGradSimd({ k, b }: HeapSimd, dy: TensorInfo, y: TensorInfo, invInfo: TensorInfo, [g, p, c]: [number, number, number]): TensorInfo {
  const dxInfo = b.makeOutput([...y.shape], 'float32');
  // Rows: ones, Σ dy, Σ dy·y, −inv·mean(dy·y), −inv·mean(dy).
  const work = heapWorkspace(b, 5, c);
  work.values.fill(1, 0, c);
  const inv = b.typedArrayFromHeap(invInfo);
  const [dyo, yo, invo, dxo] = [offsetOf(b, dy), offsetOf(b, y), offsetOf(b, invInfo), offsetOf(b, dxInfo)];
  const { row } = work;
  const w = work.values;
  const cb = 4 * c;
  for (let group = 0; group < g; group++) {
    const [dyg, yg, dxg] = [dyo + group * p * cb, yo + group * p * cb, dxo + group * p * cb];
    w.fill(0, c, 3 * c);
    k.tapReduce(dyg, row(0), row(1), 1, 0, 0, p, cb, 0, cb);
    k.tapReduce(dyg, yg, row(2), 1, 0, 0, p, cb, cb, cb);
    for (let i = 0; i < c; i++) {
      const scale = inv[group * c + i]!;
      w[3 * c + i] = (-w[2 * c + i]! / p) * scale;
      w[4 * c + i] = (-w[c + i]! / p) * scale;
    }
    // dx = dy·inv + y·(−inv·mean(dy·y)) − inv·mean(dy)
    k.channelAffine(dyg, yg, dxg, invo + group * cb, row(3), row(4), p, cb, cb, cb, cb);
  }
  work.dispose();
  return dxInfo;
}

export const batchNormalizeGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, y, inv } = inputs as { dy: TensorInfo; y: TensorInfo; inv: TensorInfo };
  const { groups } = attrs as unknown as BatchNormAttrs;
  const [g, p, c] = groupShape(y, groups);
  const simd = c % 4 === 0 ? simdOnHeap(backend) : null;
  if (simd) return batchNormalizeGradSimd(simd, dy, y, inv, [g, p, c]);
  const access = arrayAccess(backend as KernelBackend);
  const dxInfo = access.output([...y.shape]);
  const [dys, ys, invs, dx] = [access.view(dy), access.view(y), access.view(inv), access.view(dxInfo)];
  for (let group = 0; group < g; group++) {
    const base = group * p * c;
    const end = base + p * c;
    for (let k = 0; k < c; k++) {
      let m1 = 0;
      let m2 = 0;
      for (let i = base + k; i < end; i += c) {
        const d = dys[i]!;
        m1 += d;
        m2 += d * ys[i]!;
      }
      m1 /= p;
      m2 /= p;
      const scale = invs[group * c + k]!;
      for (let i = base + k; i < end; i += c) dx[i] = (dys[i]! - m1 - ys[i]! * m2) * scale;
    }
  }
  return dxInfo;
};
