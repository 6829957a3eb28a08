import * as tf from '@tensorflow/tfjs';
import { trackMemory, type MemorySource } from '../memory.js';

export interface TapeMemory {
  /**
   * Bytes the gradient tape holds when the backward pass starts (tfjs has then freed every forward
   * intermediate no gradient needs), the result of `fn` included.
   */
  keptBytes: number;
  /**
   * Bytes allocated by the forward pass, freed or not: every kernel output, the result included.
   * The backward pass makes about one gradient per intermediate, and tfjs keeps every gradient until
   * the backward pass of the `tf.grads` call ends, so this also sizes the gradients held at its end.
   */
  forwardBytes: number;
  source: MemorySource;
}

/**
 * Scalars live at the sample point besides the result: the inner sum, the loss, the gradient seed
 * and the gradients on the way to the sample point — 6 tensors in tfjs' byte count (clones
 * counted), 5 heap buffers (both fixed by the hand-computed cases of the tests).
 */
const SAMPLE_SCALARS: Record<MemorySource, number> = { 'wasm-heap': 5, 'tensor-bytes': 6 };

/**
 * The memory of `fn(...inputs)` under a gradient tape, measured (see `trackMemory` of
 * @autodeeplab/core for what is counted on each backend): the forward runs under `tf.grads`, and an
 * identity with a custom gradient after the (summed) result samples the memory when the backward
 * pass starts. Inputs existing before are not counted.
 */
export function measureTape(fn: (...inputs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): TapeMemory {
  let sampled = -1;
  let forwardBytes = 0;
  const tracker = trackMemory();
  try {
    const sample = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
      value: tf.clone(args[0] as tf.Tensor),
      gradFunc: (dy: tf.Tensor) => {
        sampled = tracker.live();
        return tf.clone(dy);
      },
    }));
    const grads = tf.grads((...xs: tf.Tensor[]) => {
      const y = fn(...xs);
      forwardBytes = tracker.allocated();
      return tf.sum(sample(tf.sum(y)) as tf.Tensor);
    });
    tf.dispose(grads(inputs));
    if (sampled < 0) throw new Error('measureTape: the backward pass did not reach the sample point');
    return { keptBytes: sampled - SAMPLE_SCALARS[tracker.source] * 4, forwardBytes, source: tracker.source };
  } finally {
    tracker.stop();
  }
}
