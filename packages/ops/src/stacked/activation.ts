import * as tf from '@tensorflow/tfjs';
import type { StackInput } from './types.js';

/**
 * A tensor and its ReLU, computed at most once. Every consumer that starts with a ReLU (conv ops,
 * transitions, the stacked forms) reads `relu()` from here, so a tensor feeding many edges is
 * activated once (exact: the ReLU is a pure function of the tensor). It is also a `StackInput`:
 * `groups` independent batches stacked on the batch axis (default 1) and an optional `convolve`.
 */
export class Activation implements StackInput {
  private activated: tf.Tensor4D | undefined;

  constructor(
    readonly x: tf.Tensor4D,
    readonly groups = 1,
    readonly convolve?: StackInput['convolve'],
  ) {}

  readonly relu = (): tf.Tensor4D => {
    this.activated ??= tf.relu(this.x);
    return this.activated;
  };
}
