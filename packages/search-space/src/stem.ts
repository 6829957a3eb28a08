import * as tf from '@tensorflow/tfjs';
import { BatchNorm, Conv2d, Module, type Rng } from '@autodeeplab/core';

/** Conv 3×3 stride 2 → BN → ReLU (one stem layer; affine BN as in DARTS' stem). */
export class StemLayer extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm;

  constructor(name: string, spec: { inChannels: number; outChannels: number; rng: Rng }) {
    super(name);
    this.conv = this.addChild(
      'conv',
      (n) => new Conv2d(n, { inChannels: spec.inChannels, outChannels: spec.outChannels, kernelSize: 3, stride: 2, rng: spec.rng }),
    );
    this.bn = this.addChild('bn', (n) => new BatchNorm(n, { channels: spec.outChannels, affine: true }));
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.relu(this.bn.apply(this.conv.apply(x)));
  }
}
