import * as tf from '@tensorflow/tfjs';
import { BatchNorm, Conv2d, Module, type Layer, type Rng } from '@autodeeplab/core';
import { AtrousConv2d, FactorizedReduce, samePadding } from './blocks.js';
import { hasOp, registerOp, type Op, type OpShapeSpec, type OpSpec, type PreActivated } from './registry.js';

/** The 8 candidate operations, in the DARTS / Auto-DeepLab order (the column order of α). */
export const BUILTIN_OPS = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5'] as const;

export type BuiltinOpName = (typeof BUILTIN_OPS)[number];

export interface SepConvSpec {
  channels: number;
  kernelSize: number;
  stride: 1 | 2;
  affine: boolean;
  rng: Rng;
  /** Dilation of the depthwise convs (default 1); a DARTS-style separable atrous op may set 2 (stride 1 only). */
  rate?: number;
}

/**
 * Separable conv, as in the official code: (ReLU → depthwise k×k → pointwise 1×1 → BN) twice; with
 * stride 2 the first depthwise conv is strided. Children `dw1`, `pw1`, `bn1`, `dw2`, `pw2`, `bn2`.
 */
export class SepConv extends Module implements Layer, PreActivated {
  readonly preActivation = 'relu' as const;
  readonly dw1: Conv2d;
  readonly pw1: Conv2d;
  readonly bn1: BatchNorm;
  readonly dw2: Conv2d;
  readonly pw2: Conv2d;
  readonly bn2: BatchNorm;

  constructor(name: string, spec: SepConvSpec) {
    super(name);
    const { channels: c, kernelSize, stride, affine, rng, rate: dilation = 1 } = spec;
    const depthwise = (s: 1 | 2) => (n: string) => new Conv2d(n, { inChannels: c, outChannels: c, kernelSize, stride: s, dilation, depthwise: true, rng });
    const pointwise = (n: string) => new Conv2d(n, { inChannels: c, outChannels: c, kernelSize: 1, rng });
    this.dw1 = this.addChild('dw1', depthwise(stride));
    this.pw1 = this.addChild('pw1', pointwise);
    this.bn1 = this.addChild('bn1', (n) => new BatchNorm(n, { channels: c, affine }));
    this.dw2 = this.addChild('dw2', depthwise(1));
    this.pw2 = this.addChild('pw2', pointwise);
    this.bn2 = this.addChild('bn2', (n) => new BatchNorm(n, { channels: c, affine }));
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.applyPreActivated(tf.relu(x)));
  }

  applyPreActivated(reluX: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const h = this.bn1.apply(this.pw1.apply(this.dw1.apply(reluX)));
      return this.bn2.apply(this.pw2.apply(this.dw2.apply(tf.relu(h))));
    });
  }
}

/** As SepConvSpec; `rate` defaults to 2 (the paper's ops). */
export type DilConvSpec = SepConvSpec;

/**
 * Atrous conv as in the paper's cell: ReLU → regular k×k conv with dilation 2 → BN. At stride 2 the
 * result is exactly a conv with the dilated kernel, stride 2, TensorFlow SAME padding (see
 * `AtrousConv2d`). Children `conv`, `bn`.
 */
export class DilConv extends Module implements Layer, PreActivated {
  readonly preActivation = 'relu' as const;
  readonly conv: AtrousConv2d;
  readonly bn: BatchNorm;

  constructor(name: string, spec: DilConvSpec) {
    super(name);
    const { channels: c, kernelSize, stride, affine, rng, rate = 2 } = spec;
    this.conv = this.addChild('conv', (n) => new AtrousConv2d(n, { inChannels: c, outChannels: c, kernelSize, rate, stride, rng }));
    this.bn = this.addChild('bn', (n) => new BatchNorm(n, { channels: c, affine }));
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.applyPreActivated(tf.relu(x)));
  }

  applyPreActivated(reluX: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.bn.apply(this.conv.apply(reluX)));
  }
}

export interface Pool3x3Spec {
  channels: number;
  stride: 1 | 2;
  /** Follow the pooling by a non-affine BN (child `bn`): the search supernet's choice (DARTS). */
  batchNorm: boolean;
}

/**
 * 3×3 max or average pooling, SAME (TensorFlow placement), padding never part of the result.
 *
 * Average pooling does not count the padding: each output is the mean of the in-image pixels of
 * its window. tfjs 4.22's `avgPool(…, 'same')` computes that forward, but its gradient divides by 9
 * everywhere, wrong at the border; so the op averages a zero-padded copy with VALID windows
 * (sum / 9, exact gradient) and rescales by 9 / count, a constant map cached per input size.
 * Max pooling is tfjs's `maxPool(…, 'same')`; on wasm its gradient is the corrected `MaxPoolGrad`
 * that @autodeeplab/kernels registers (tfjs' own loses windows whose values are all negative).
 */
export class Pool3x3 extends Module implements Layer {
  readonly bn: BatchNorm | undefined;
  private readonly scales = new Map<string, tf.Tensor4D>();

  constructor(
    name: string,
    readonly mode: 'max' | 'avg',
    readonly spec: Pool3x3Spec,
  ) {
    super(name);
    this.bn = spec.batchNorm ? this.addChild('bn', (n) => new BatchNorm(n, { channels: spec.channels, affine: false })) : undefined;
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const pooled = this.pool(x);
      return this.bn ? this.bn.apply(pooled) : pooled;
    });
  }

  /** The pooling alone (no BN): the same for every instance of a mode and stride. */
  pool(x: tf.Tensor4D): tf.Tensor4D {
    return this.mode === 'max' ? tf.maxPool(x, 3, this.spec.stride, 'same') : this.averagePool(x);
  }

  private averagePool(x: tf.Tensor4D): tf.Tensor4D {
    const [, h, w] = x.shape;
    const { stride } = this.spec;
    const padH = samePadding(h, 3, stride);
    const padW = samePadding(w, 3, stride);
    const sum9 = tf.avgPool(tf.pad(x, [[0, 0], padH, padW, [0, 0]]), 3, stride, 'valid');
    return tf.mul(sum9, this.scale(h, w, padH, padW));
  }

  /** 9 / (number of in-image pixels of each window), [1, outH, outW, 1]. */
  private scale(h: number, w: number, padH: [number, number], padW: [number, number]): tf.Tensor4D {
    // Per backend, as the shared constants (see constants.ts).
    const key = `${tf.getBackend()}:${h}x${w}`;
    let scale = this.scales.get(key);
    if (!scale) {
      const { stride } = this.spec;
      const inside = (size: number, before: number, i: number) => {
        const start = i * stride - before;
        return Math.min(start + 3, size) - Math.max(start, 0);
      };
      const outH = Math.ceil(h / stride);
      const outW = Math.ceil(w / stride);
      const values = new Float32Array(outH * outW);
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) values[i * outW + j] = 9 / (inside(h, padH[0], i) * inside(w, padW[0], j));
      }
      scale = tf.keep(tf.tensor4d(values, [1, outH, outW, 1]));
      this.scales.set(key, scale);
    }
    return scale;
  }

  override dispose(): void {
    for (const scale of this.scales.values()) scale.dispose();
    this.scales.clear();
    super.dispose();
  }
}

/** `skip_connect` at stride 1: returns its input itself (no copy). */
export class Identity extends Module implements Layer {
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return x;
  }
}

/**
 * `none`: a zero tensor of the output shape. `tf.zeros` runs no kernel and the result does not depend
 * on x (no gradient flows through it); a MixedOp should skip it altogether (`isZeroOp`).
 */
export class Zero extends Module implements Layer {
  constructor(
    name: string,
    readonly channels: number,
    readonly stride: 1 | 2,
  ) {
    super(name);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const [n, h, w] = x.shape;
    return tf.zeros([n, Math.ceil(h / this.stride), Math.ceil(w / this.stride), this.channels]);
  }
}

const bnParameters = ({ channels, affine }: OpShapeSpec) => (affine ? 2 * channels : 0);

function sepConv(kernelSize: number) {
  return (spec: OpSpec): Op => new SepConv(spec.name, { ...spec, kernelSize });
}

function dilConv(kernelSize: number) {
  return (spec: OpSpec): Op => new DilConv(spec.name, { ...spec, kernelSize });
}

/**
 * Pooling ops get a non-affine BN exactly when `affine` is false, i.e. in the search supernet
 * (the DARTS convention, which the paper's search follows); the discrete network (affine BN) pools without BN.
 */
function pool(mode: 'max' | 'avg') {
  return (spec: OpSpec): Op => new Pool3x3(spec.name, mode, { channels: spec.channels, stride: spec.stride, batchNorm: !spec.affine });
}

/** Registers the 8 built-in ops (done once, when this file is first imported). */
function registerBuiltinOps(): void {
  registerOp('none', (spec) => new Zero(spec.name, spec.channels, spec.stride), {
    kind: 'zero',
    description: 'zero tensor of the output shape',
    parameterCount: () => 0,
  });
  registerOp('max_pool_3x3', pool('max'), {
    kind: 'pool',
    description: '3×3 max pooling, SAME (+ non-affine BN when affine is false)',
    parameterCount: () => 0,
  });
  registerOp('avg_pool_3x3', pool('avg'), {
    kind: 'pool',
    description: '3×3 average pooling, SAME, padding not counted (+ non-affine BN when affine is false)',
    parameterCount: () => 0,
  });
  registerOp(
    'skip_connect',
    (spec) =>
      spec.stride === 1
        ? new Identity(spec.name)
        : new FactorizedReduce(spec.name, { inChannels: spec.channels, outChannels: spec.channels, affine: spec.affine, rng: spec.rng }),
    {
      kind: 'identity',
      description: 'identity; FactorizedReduce at stride 2',
      parameterCount: (s) => (s.stride === 1 ? 0 : s.channels * s.channels + bnParameters(s)),
    },
  );
  for (const k of [3, 5]) {
    registerOp(`sep_conv_${k}x${k}`, sepConv(k), {
      kind: 'conv',
      description: `(ReLU → depthwise ${k}×${k} → pointwise 1×1 → BN) × 2`,
      parameterCount: (s) => 2 * (k * k * s.channels + s.channels * s.channels + bnParameters(s)),
      preActivation: 'relu',
    });
  }
  for (const k of [3, 5]) {
    registerOp(`dil_conv_${k}x${k}`, dilConv(k), {
      kind: 'conv',
      description: `ReLU → ${k}×${k} conv, dilation 2 → BN`,
      parameterCount: (s) => k * k * s.channels * s.channels + bnParameters(s),
      preActivation: 'relu',
    });
  }
}

// A second copy of this package in one process finds them registered by the first (the registry is shared).
if (!hasOp('none')) registerBuiltinOps();
