import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { offsetOf, simdOnHeap } from '../wasm-heap.js';
import { arrayAccess } from './array-access.js';
import { FUSED_KERNEL_NAMES, hasFusedKernels } from './names.js';

/**
 * AdlColumnDot: Σ over rows of a ⊙ b for a [R, E, K] and b [R, E, K] or [R, 1, K], giving [E, K],
 * in one pass (tfjs: a Multiply, broadcast or not, then a reduction that wasm runs as a transpose or
 * a matrix product). On wasm with SIMD (K a multiple of 4) by `tapReduce`, else a float64 loop.
 * The α gradients of the supernet's weighted sums.
 */

export const columnDotKernel: KernelFunc = ({ inputs, backend }) => {
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const [rows, groups, k] = a.shape as [number, number, number];
  // b is [R, E, K] or [R, 1, K] (one row of K shared by the E groups).
  const shared = b.shape[1] === 1 && groups > 1;
  const access = arrayAccess(backend as KernelBackend);
  const outInfo = access.output([groups, k]);
  const out = access.view(outInfo);
  out.fill(0);
  const simd = k % 4 === 0 && rows > 0 ? simdOnHeap(backend) : null;
  if (simd) {
    const [ao, bo, oo] = [offsetOf(simd.b, a), offsetOf(simd.b, b), offsetOf(simd.b, outInfo)];
    if (!shared) {
      simd.k.tapReduce(ao, bo, oo, 1, 0, 0, rows, 4 * groups * k, 4 * groups * k, 4 * groups * k);
    } else {
      for (let e = 0; e < groups; e++) simd.k.tapReduce(ao + 4 * e * k, bo, oo + 4 * e * k, 1, 0, 0, rows, 4 * groups * k, 4 * k, 4 * k);
    }
    return outInfo;
  }
  const [as, bs] = [access.view(a), access.view(b)];
  const sums = new Float64Array(groups * k);
  for (let r = 0; r < rows; r++) {
    for (let e = 0; e < groups; e++) {
      const ai = (r * groups + e) * k;
      const bi = shared ? r * k : ai;
      for (let j = 0; j < k; j++) sums[e * k + j]! += as[ai + j]! * bs[bi + j]!;
    }
  }
  out.set(sums);
  return outInfo;
};

/**
 * For a [R, E, K] and b [R, E, K] or [R, 1, K] (shared by the E groups): Σ over the rows of a ⊙ b,
 * [E, K]. Not differentiable (meant for gradient functions).
 */
export function columnDot(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor2D {
  if (hasFusedKernels() && a.dtype === 'float32' && b.dtype === 'float32') {
    return tf.engine().runKernel(FUSED_KERNEL_NAMES.columnDot, { a, b }, {}) as tf.Tensor2D;
  }
  return tf.tidy(() => tf.sum(tf.mul(a, b), 0) as tf.Tensor2D);
}
