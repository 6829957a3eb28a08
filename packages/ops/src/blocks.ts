import * as tf from '@tensorflow/tfjs';
import { BatchNorm, Conv2d, Module, heNormal, resizeBilinear, type Layer, type Rng } from '@autodeeplab/core';
import type { PreActivated } from './registry.js';

/**
 * TensorFlow SAME padding of one spatial dimension: output ceil(n / stride), the extra padding (if
 * odd) at the end. Returns [before, after].
 */
export function samePadding(size: number, kernelSize: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernelSize - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/**
 * `x[:, offH::2, offW::2, :]`, differentiable on every backend (tfjs has no StridedSlice gradient):
 * pad odd sizes by one zero row/column at the end, view [N, H, W, C] as [N·H/2, 2, W/2, 2·C] and
 * slice one phase. Only the selected quarter is copied.
 */
export function selectPhase(x: tf.Tensor4D, offH: 0 | 1, offW: 0 | 1): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const padded =
    h % 2 === 0 && w % 2 === 0
      ? x
      : tf.pad(x, [
          [0, 0],
          [0, h % 2],
          [0, w % 2],
          [0, 0],
        ]);
  const h2 = Math.ceil(h / 2);
  const w2 = Math.ceil(w / 2);
  const viewed = tf.reshape(padded, [n * h2, 2, w2, 2 * c]);
  const phase = tf.slice(viewed, [0, offH, 0, offW * c], [n * h2, 1, w2, c]);
  return tf.reshape(phase, [n, h2, w2, c]);
}

/**
 * Which phase a stride-2 TensorFlow-SAME convolution with an odd effective kernel is centred on:
 * output i reads input 2i + offset, offset 1 for even sizes and 0 for odd ones (the SAME padding
 * puts the odd pixel at the end).
 */
export function stride2Offset(size: number): 0 | 1 {
  return size % 2 === 0 ? 1 : 0;
}

export interface AtrousConv2dSpec {
  inChannels: number;
  outChannels: number;
  /** Odd kernel size. */
  kernelSize: number;
  /** Dilation rate (1 = plain convolution). */
  rate: number;
  /** 1, or 2 (with rate 1 or an even rate). */
  stride?: 1 | 2;
  rng: Rng;
}

/**
 * A regular (not separable) atrous convolution without bias, with TensorFlow SAME semantics, computed
 * from non-dilated convolutions only (exact, and differentiable on every backend):
 *
 * - stride 1, rate r: space-to-batch with block r (zero padding to a multiple of r), a k×k SAME
 *   convolution on each of the r² phases, batch-to-space. Output p reads p + r·(t − c), which all lie
 *   in p's phase, so this is the dilated convolution exactly (as TensorFlow's own `atrous_conv2d`).
 * - stride 2, even rate r: the result equals a conv with the dilated kernel (size r(k−1)+1), stride 2,
 *   SAME padding. Output i reads input 2i + o + r·(t − c) (o = 1 for even sizes, 0 for odd), i.e. only
 *   the phase x[o::2] and on that phase a SAME conv of rate r/2. So: select the phase, then the
 *   stride-1 case — a quarter of the work of a full-resolution dilated conv, no subsampling after.
 *   (tfjs cannot run a conv that is both strided and dilated.)
 */
export class AtrousConv2d extends Module implements Layer {
  readonly kernel: tf.Variable;
  readonly spec: Required<Omit<AtrousConv2dSpec, 'rng'>>;

  constructor(name: string, spec: AtrousConv2dSpec) {
    super(name);
    this.spec = { stride: 1, ...spec };
    const { inChannels, outChannels, kernelSize: k, rate, stride } = this.spec;
    if (k % 2 !== 1) throw new Error(`${name}: kernel size must be odd, got ${k}`);
    if (!Number.isInteger(rate) || rate < 1) throw new Error(`${name}: rate must be a positive integer, got ${rate}`);
    if (stride === 2 && rate > 1 && rate % 2 !== 0) {
      throw new Error(`${name}: stride 2 needs rate 1 or an even rate, got ${rate}`);
    }
    this.kernel = this.addParameter('kernel', () => heNormal(spec.rng, [k, k, inChannels, outChannels], k * k * inChannels));
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return atrousConv2d(x, this.kernel as tf.Tensor4D, this.spec.rate, this.spec.stride);
  }
}

/**
 * The computation of `AtrousConv2d` for any kernel [k, k, inC, outC] (odd k): SAME, dilation `rate`,
 * stride 1 or 2 (stride 2 with rate 1 or an even rate). Exposed so that stacked kernels of several
 * ops can run as one convolution.
 */
export function atrousConv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, rate: number, stride: 1 | 2 = 1): tf.Tensor4D {
  if (stride === 2 && rate > 1) {
    const phase = selectPhase(x, stride2Offset(x.shape[1]), stride2Offset(x.shape[2]));
    return dilated(phase, kernel, rate / 2);
  }
  if (rate === 1) return tf.conv2d(x, kernel, stride, 'same');
  return dilated(x, kernel, rate);
}

/** Stride-1 SAME convolution with dilation `rate`, through space-to-batch. */
function dilated(x: tf.Tensor4D, kernel: tf.Tensor4D, rate: number): tf.Tensor4D {
  if (rate === 1) return tf.conv2d(x, kernel, 1, 'same');
  const [, h, w] = x.shape;
  const pads = [
    [0, (rate - (h % rate)) % rate],
    [0, (rate - (w % rate)) % rate],
  ];
  const phases = tf.spaceToBatchND(x, [rate, rate], pads);
  const y = tf.conv2d(phases, kernel, 1, 'same');
  return tf.batchToSpaceND(y, [rate, rate], pads);
}

export interface ReLUConvBNSpec {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride?: 1 | 2;
  /** Dilation rate (default 1); > 1 uses `AtrousConv2d`. */
  rate?: number;
  affine: boolean;
  rng: Rng;
}

/**
 * ReLU → k×k conv (SAME, no bias) → BN. Used for the 1×1 input projections of cells and the stride-2
 * 3×3 reduction between scales. Children: `conv`, `bn`.
 */
export class ReLUConvBN extends Module implements Layer, PreActivated {
  readonly preActivation = 'relu' as const;
  readonly conv: Conv2d | AtrousConv2d;
  readonly bn: BatchNorm;

  constructor(name: string, spec: ReLUConvBNSpec) {
    super(name);
    const { inChannels, outChannels, kernelSize, stride = 1, rate = 1, affine, rng } = spec;
    this.conv =
      rate === 1
        ? this.addChild('conv', (n) => new Conv2d(n, { inChannels, outChannels, kernelSize, stride, rng }))
        : this.addChild('conv', (n) => new AtrousConv2d(n, { inChannels, outChannels, kernelSize, stride, rate, rng }));
    this.bn = this.addChild('bn', (n) => new BatchNorm(n, { channels: outChannels, affine }));
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.applyPreActivated(tf.relu(x)));
  }

  applyPreActivated(reluX: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.bn.apply(this.conv.apply(reluX)));
  }
}

export interface FactorizedReduceSpec {
  inChannels: number;
  /** At least 2: split between the two branches (floor(C/2) and ceil(C/2)). */
  outChannels: number;
  affine: boolean;
  rng: Rng;
}

/**
 * Halves the resolution without losing every other pixel: ReLU, then two 1×1 stride-2 convs, one on x
 * (reads pixels (2i, 2j)) and one on x shifted by one pixel (reads (2i+1, 2j+1), zero beyond the
 * border), concatenated on channels, then BN. Output ceil(H/2) × ceil(W/2) for odd sizes too.
 * A 1×1 stride-2 conv is a 1×1 conv of the phase it reads, so `conv1`/`conv2` are stored as 1×1
 * convs (stride 1) applied to the phases x[0::2, 0::2] and x[1::2, 1::2]. Children: `conv1`, `conv2`, `bn`.
 */
export class FactorizedReduce extends Module implements Layer, PreActivated {
  readonly preActivation = 'relu' as const;
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly bn: BatchNorm;

  constructor(name: string, spec: FactorizedReduceSpec) {
    super(name);
    const { inChannels, outChannels, affine, rng } = spec;
    if (!Number.isInteger(outChannels) || outChannels < 2) {
      throw new Error(`${name}: FactorizedReduce needs at least 2 output channels, got ${outChannels}`);
    }
    const half = Math.floor(outChannels / 2);
    this.conv1 = this.addChild('conv1', (n) => new Conv2d(n, { inChannels, outChannels: half, kernelSize: 1, rng }));
    this.conv2 = this.addChild('conv2', (n) => new Conv2d(n, { inChannels, outChannels: outChannels - half, kernelSize: 1, rng }));
    this.bn = this.addChild('bn', (n) => new BatchNorm(n, { channels: outChannels, affine }));
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.applyPreActivated(tf.relu(x)));
  }

  applyPreActivated(reluX: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const a = this.conv1.apply(selectPhase(reluX, 0, 0));
      const b = this.conv2.apply(selectPhase(reluX, 1, 1));
      return this.bn.apply(tf.concat([a, b], 3));
    });
  }
}

/**
 * Bilinear resize of an NHWC tensor to `height` × `width` (half-pixel centres, align_corners false).
 * Returns `x` itself when it already has that size.
 */
export function upsampleBilinear(x: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  return resizeBilinear(x, height, width);
}
