import * as tf from '@tensorflow/tfjs';

/**
 * Bytes that a gradient tape holds for the backward pass of `fn(...inputs)`, measured: the forward
 * runs under `tf.grads`, and an identity with a custom gradient after the (summed) result samples
 * `tf.memory().numBytes` when the backward pass starts, i.e. after tfjs freed every forward
 * intermediate that no gradient needs. This is tfjs' own accounting: every tensor a kernel saves for
 * its gradient is a clone counted at full size, so a buffer saved by k kernels counts k times (the
 * inputs themselves, existing before, are not counted, but their saved clones are). The result is
 * counted (the sum that follows keeps it); the scalars of the measurement are not.
 */
const MEASUREMENT_SCALARS = 6;

export function measureKeptBytes(fn: (...inputs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): number {
  let sampled = -1;
  const sample = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.clone(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => {
      sampled = tf.memory().numBytes;
      return tf.clone(dy);
    },
  }));
  const before = tf.memory().numBytes;
  let outputBytes = 0;
  const grads = tf.grads((...xs: tf.Tensor[]) => {
    const y = fn(...xs);
    outputBytes = y.size * 4;
    return tf.sum(sample(tf.sum(y)) as tf.Tensor);
  });
  const result = grads(inputs);
  tf.dispose(result);
  if (sampled < 0) throw new Error('measureKeptBytes: the backward pass did not reach the sample point');
  // Live scalars at the sample point besides the result: the inner sum, its clone kept by the outer
  // sum, the loss, its gradient seed, the gradient reaching the sample, and the sample's output.
  void outputBytes;
  return sampled - before - MEASUREMENT_SCALARS * 4;
}
