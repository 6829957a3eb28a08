import * as tf from '@tensorflow/tfjs';
import { FUSED_KERNEL_NAMES, hasFusedKernels, runKernel } from '@autodeeplab/core';
import { backendConstant } from './constants.js';

export interface BatchNormalizeOptions {
  /**
   * The batch holds `groups` independent inputs of equal size, stacked along the batch axis; each
   * group is normalised with its own statistics (default 1). BN of a stack = stack of the BNs.
   */
  groups?: number;
  epsilon?: number;
}

/**
 * [1, P] filled with 1/P: `averager · x` ([P, C]) is the channel mean as one matrix-vector product.
 * tfjs-backend-wasm reduces a non-innermost axis by transposing the whole tensor first; the product
 * avoids that copy (one group). Cached per P (small next to a supernet's tensors).
 */
function averager(pixels: number): tf.Tensor2D {
  return backendConstant(`averager:${pixels}`, () => tf.fill([1, pixels], 1 / pixels) as tf.Tensor2D);
}

/**
 * Non-affine batch normalisation with batch statistics, `(x − mean) / sqrt(var + ε)` per channel
 * over N, H, W (biased variance, as BN in training), as ONE tape node with a hand-written gradient:
 * `dx = (dy − mean(dy) − y·mean(dy·y)) / sqrt(var + ε)`; no running statistics are kept (the search
 * supernet uses batch statistics only). Keeps y and the [G, C] inverse deviation for the backward.
 * On cpu and wasm one fused kernel each way (@autodeeplab/kernels' AdlBatchNormalize, two passes over
 * the data); elsewhere about 8 kernels forward and 9 backward (one group's means are
 * matrix-vector products), against ~15 for `BatchNorm.apply` + autodiff.
 */
export function batchNormalize(x: tf.Tensor4D, options: BatchNormalizeOptions = {}): tf.Tensor4D {
  const groups = options.groups ?? 1;
  const epsilon = options.epsilon ?? 1e-5;
  const [b, h, w, c] = x.shape;
  if (!Number.isInteger(groups) || groups < 1 || b % groups !== 0) {
    throw new Error(`batchNormalize: batch ${b} is not a multiple of groups ${groups}`);
  }
  const pixels = (b / groups) * h * w;
  if (hasFusedKernels() && x.dtype === 'float32') return fusedBatchNormalize(x, groups, epsilon);
  // [G·P, C] → per-group channel means, [G, 1, C] (broadcast against [G, P, C]). One group: a
  // matrix-vector product; several: a mean over the middle axis (as fast as a batched product here).
  const groupMean = (t: tf.Tensor2D) =>
    groups === 1 ? tf.reshape(tf.matMul(averager(pixels), t), [1, 1, c]) : tf.mean(tf.reshape(t, [groups, pixels, c]), 1, true);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const x2 = tf.reshape(input, [groups * pixels, c]) as tf.Tensor2D;
    const centred = tf.sub(tf.reshape(x2, [groups, pixels, c]), groupMean(x2));
    const variance = groupMean(tf.reshape(tf.square(centred), [groups * pixels, c]) as tf.Tensor2D);
    const inv = tf.rsqrt(tf.add(variance, epsilon));
    const y = tf.mul(centred, inv);
    save([y, inv]);
    return {
      value: tf.reshape(y, [b, h, w, c]) as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ys, invs] = saved as [tf.Tensor, tf.Tensor];
        const dy2 = tf.reshape(dy, [groups * pixels, c]) as tf.Tensor2D;
        const m1 = groupMean(dy2);
        const m2 = groupMean(tf.reshape(tf.mul(tf.reshape(dy2, [groups, pixels, c]), ys), [groups * pixels, c]) as tf.Tensor2D);
        const dx = tf.mul(tf.sub(tf.sub(tf.reshape(dy2, [groups, pixels, c]), m1), tf.mul(ys, m2)), invs);
        return tf.reshape(dx, [b, h, w, c]);
      },
    };
  });
  return op(x) as tf.Tensor4D;
}

/** batchNormalize with the fused kernels of @autodeeplab/kernels (same tape node, same saved tensors). */
function fusedBatchNormalize(x: tf.Tensor4D, groups: number, epsilon: number): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const [y, inv] = runKernel<tf.Tensor[]>(FUSED_KERNEL_NAMES.batchNormalize, { x: input }, { groups, epsilon });
    save([y!, inv!]);
    return {
      value: y as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ys, invs] = saved as [tf.Tensor, tf.Tensor];
        return runKernel<tf.Tensor>(FUSED_KERNEL_NAMES.batchNormalizeGrad, { dy, y: ys, inv: invs }, { groups });
      },
    };
  });
  return op(x) as tf.Tensor4D;
}
