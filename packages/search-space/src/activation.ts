import * as tf from '@tensorflow/tfjs';

/**
 * A tensor and its ReLU, computed at most once. Every consumer that starts with a ReLU (conv ops,
 * transitions) reads `relu` from here, so a tensor feeding many edges is activated once (exact: the
 * ReLU is a pure function of the tensor).
 */
export class Activation {
  private activated: tf.Tensor4D | undefined;

  constructor(readonly x: tf.Tensor4D) {}

  get relu(): tf.Tensor4D {
    this.activated ??= tf.relu(this.x);
    return this.activated;
  }
}
