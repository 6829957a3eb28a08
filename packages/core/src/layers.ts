import * as tf from '@tensorflow/tfjs';
import { Module } from './module.js';
import type { Rng } from './rng.js';

/** Anything that maps one NHWC tensor to another. */
export interface Layer {
  apply(x: tf.Tensor4D): tf.Tensor4D;
}

export interface Conv2dSpec {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride?: number;
  dilation?: number;
  padding?: 'same' | 'valid';
  bias?: boolean;
  /**
   * Depthwise convolution (channel multiplier outChannels / inChannels, usually 1). Its kernel is
   * [k, k, inChannels, multiplier] as tfjs expects.
   */
  depthwise?: boolean;
  rng: Rng;
}

/** He-normal initialisation (fan-in), as the reference implementations use for ReLU networks. */
export function heNormal(rng: Rng, shape: number[], fanIn: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.normals(size, Math.sqrt(2 / fanIn)), shape);
}

/** A regular or depthwise 2-D convolution (NHWC), with stride, dilation and an optional bias. */
export class Conv2d extends Module implements Layer {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | undefined;
  readonly spec: Required<Omit<Conv2dSpec, 'rng'>>;

  constructor(name: string, spec: Conv2dSpec) {
    super(name);
    this.spec = {
      stride: 1,
      dilation: 1,
      padding: 'same',
      bias: false,
      depthwise: false,
      ...spec,
    };
    const { inChannels, outChannels, kernelSize: k, depthwise } = this.spec;
    if (this.spec.stride > 1 && this.spec.dilation > 1) {
      throw new Error(`${name}: stride ${this.spec.stride} with dilation ${this.spec.dilation} is not supported`);
    }
    if (depthwise && outChannels % inChannels !== 0) {
      throw new Error(`${name}: depthwise conv needs outChannels (${outChannels}) to be a multiple of inChannels (${inChannels})`);
    }
    const shape = depthwise ? [k, k, inChannels, outChannels / inChannels] : [k, k, inChannels, outChannels];
    const fanIn = depthwise ? k * k : k * k * inChannels;
    this.kernel = this.addParameter('kernel', () => heNormal(spec.rng, shape, fanIn));
    this.bias = this.spec.bias ? this.addParameter('bias', () => tf.zeros([outChannels])) : undefined;
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const { stride, dilation, padding, depthwise } = this.spec;
    const y = depthwise
      ? tf.depthwiseConv2d(x, this.kernel as tf.Tensor4D, stride, padding, 'NHWC', dilation)
      : tf.conv2d(x, this.kernel as tf.Tensor4D, stride, padding, 'NHWC', dilation);
    return this.bias ? tf.add(y, this.bias) : y;
  }
}

export interface BatchNormSpec {
  channels: number;
  /** Learn a scale γ and shift β (default true). The search supernet uses non-affine BN. */
  affine?: boolean;
  /**
   * Running statistics follow `running = (1 − momentum)·running + momentum·batch` (PyTorch's
   * convention; TensorFlow's `decay` is 1 − momentum). The running variance uses the unbiased
   * batch variance.
   */
  momentum?: number;
  epsilon?: number;
}

/** Batch normalisation over N, H, W of an NHWC tensor. */
export class BatchNorm extends Module implements Layer {
  readonly gamma: tf.Variable | undefined;
  readonly beta: tf.Variable | undefined;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly momentum: number;
  readonly epsilon: number;
  /** Constant γ = 1, β = 0 for non-affine BN: tfjs's batchNorm gradient needs a scale and an offset. */
  private readonly identityScale: tf.Tensor1D | undefined;
  private readonly identityOffset: tf.Tensor1D | undefined;

  constructor(name: string, spec: BatchNormSpec) {
    super(name);
    const { channels, affine = true } = spec;
    this.momentum = spec.momentum ?? 0.1;
    this.epsilon = spec.epsilon ?? 1e-5;
    this.gamma = affine ? this.addParameter('gamma', () => tf.ones([channels])) : undefined;
    this.beta = affine ? this.addParameter('beta', () => tf.zeros([channels])) : undefined;
    this.runningMean = this.addBuffer('running_mean', () => tf.zeros([channels]));
    this.runningVar = this.addBuffer('running_var', () => tf.ones([channels]));
    this.identityScale = affine ? undefined : tf.keep(tf.ones([channels]) as tf.Tensor1D);
    this.identityOffset = affine ? undefined : tf.keep(tf.zeros([channels]) as tf.Tensor1D);
  }

  private get scale(): tf.Tensor1D {
    return (this.gamma ?? this.identityScale) as tf.Tensor1D;
  }

  private get offset(): tf.Tensor1D {
    return (this.beta ?? this.identityOffset) as tf.Tensor1D;
  }

  override dispose(): void {
    this.identityScale?.dispose();
    this.identityOffset?.dispose();
    super.dispose();
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    if (!this.training) {
      return tf.batchNorm(x, this.runningMean, this.runningVar, this.offset, this.scale, this.epsilon) as tf.Tensor4D;
    }
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    this.updateRunningStatistics(mean, variance, x.size / x.shape[3]);
    return tf.batchNorm(x, mean, variance, this.offset, this.scale, this.epsilon) as tf.Tensor4D;
  }

  private updateRunningStatistics(mean: tf.Tensor, variance: tf.Tensor, count: number): void {
    const m = this.momentum;
    const unbiased = count > 1 ? count / (count - 1) : 1;
    const newMean = tf.tidy(() => tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
    const newVar = tf.tidy(() => tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(variance, m * unbiased)));
    this.runningMean.assign(newMean);
    this.runningVar.assign(newVar);
    newMean.dispose();
    newVar.dispose();
  }
}

/** ReLU as a layer, for composing sequences. */
export class ReLU extends Module implements Layer {
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.relu(x);
  }
}

/** Bilinear resize of an NHWC tensor to a spatial size (align_corners = false, half-pixel centres). */
export function resizeBilinear(x: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  if (x.shape[1] === height && x.shape[2] === width) return x;
  return tf.image.resizeBilinear(x, [height, width], false, true);
}
