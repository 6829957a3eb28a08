import * as tf from '@tensorflow/tfjs';
import { BatchNorm, Conv2d, Module, type Layer, type Rng } from '@autodeeplab/core';

export interface ConvBnReluSpec {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  dilation?: number;
  /** Follow the BN by a ReLU (default true). */
  relu?: boolean;
  /** Normalise with an affine BN (default true); without it the conv gets a bias instead. */
  batchNorm?: boolean;
  rng: Rng;
}

/** Conv (no bias) → affine BN → ReLU: the unit every DeepLab head is built from. */
export class ConvBnRelu extends Module implements Layer {
  readonly conv: Conv2d;
  readonly bn: BatchNorm | undefined;
  readonly relu: boolean;

  constructor(name: string, spec: ConvBnReluSpec) {
    super(name);
    const batchNorm = spec.batchNorm ?? true;
    this.relu = spec.relu ?? true;
    this.conv = this.addChild(
      'conv',
      (n) =>
        new Conv2d(n, {
          inChannels: spec.inChannels,
          outChannels: spec.outChannels,
          kernelSize: spec.kernelSize,
          dilation: spec.dilation ?? 1,
          bias: !batchNorm,
          rng: spec.rng,
        }),
    );
    this.bn = batchNorm ? this.addChild('bn', (n) => new BatchNorm(n, { channels: spec.outChannels })) : undefined;
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    let y = this.conv.apply(x);
    if (this.bn) y = this.bn.apply(y);
    return this.relu ? tf.relu(y) : y;
  }

  /** Trainable parameters of a unit with this spec (kernel, then BN γ/β or the bias). */
  static parameterCount(spec: Omit<ConvBnReluSpec, 'rng'>): number {
    const kernel = spec.kernelSize * spec.kernelSize * spec.inChannels * spec.outChannels;
    return kernel + ((spec.batchNorm ?? true) ? 2 * spec.outChannels : spec.outChannels);
  }
}

/**
 * Image-level features (DeepLabv3): global average pooling → 1×1 conv → BN → ReLU, broadcast back to
 * the input's spatial size.
 */
export class ImagePooling extends Module implements Layer {
  readonly unit: ConvBnRelu;

  constructor(name: string, spec: { inChannels: number; outChannels: number; batchNorm?: boolean; rng: Rng }) {
    super(name);
    this.unit = this.addChild('unit', (n) => new ConvBnRelu(n, { ...spec, kernelSize: 1 }));
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const [, h, w] = x.shape;
    const pooled = tf.mean(x, [1, 2], true) as tf.Tensor4D;
    const y = this.unit.apply(pooled);
    // A 1×1 map resized to any size is a broadcast. Adding zeros broadcasts with a gradient that is one
    // sum; tf.tile's gradient is h·w slices, each copying all of dy on wasm.
    return tf.add(y, tf.zeros([1, h, w, 1])) as tf.Tensor4D;
  }
}

/** Multiply-adds of a k×k conv producing an `outHeight × outWidth × outChannels` map. */
export function convMultiAdds(outHeight: number, outWidth: number, kernelSize: number, inChannels: number, outChannels: number): number {
  return outHeight * outWidth * kernelSize * kernelSize * inChannels * outChannels;
}
