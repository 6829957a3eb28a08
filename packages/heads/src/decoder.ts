import * as tf from '@tensorflow/tfjs';
import { Conv2d, Module, UserInputError, resizeBilinear, type Rng } from '@autodeeplab/core';
import { ConvBnRelu, convMultiAdds } from './conv-bn-relu.js';

export interface DeepLabV3PlusDecoderSpec {
  /** Channels of the encoder output (the ASPP projection, 256). */
  inChannels: number;
  /** Channels of the low-level (stride-4) feature. */
  lowLevelChannels: number;
  numClasses: number;
  /** Channels the low-level feature is reduced to (default 48). */
  lowLevelFilters?: number;
  /** Filters of the two 3×3 refinement convs (default 256). */
  filters?: number;
  rng: Rng;
}

export type ResolvedDecoderSpec = Required<Omit<DeepLabV3PlusDecoderSpec, 'rng'>>;

export function resolveDecoderSpec(spec: Omit<DeepLabV3PlusDecoderSpec, 'rng'>): ResolvedDecoderSpec {
  const out = { lowLevelFilters: 48, filters: 256, ...spec };
  for (const key of ['inChannels', 'lowLevelChannels', 'numClasses', 'lowLevelFilters', 'filters'] as const) {
    const v = out[key];
    if (!Number.isInteger(v) || v < 1) throw new UserInputError(`DeepLabV3PlusDecoder: ${key} must be a positive integer, found ${v}`);
  }
  return out;
}

/**
 * The DeepLabv3+ decoder: the low-level feature → 1×1 conv-BN-ReLU to 48; the encoder output
 * bilinearly upsampled to the low-level size; concatenation; two 3×3 conv-BN-ReLU of 256 (regular
 * convs); 1×1 logits with bias. Logits are at the low-level feature's size (stride 4).
 */
export class DeepLabV3PlusDecoder extends Module {
  readonly spec: ResolvedDecoderSpec;
  readonly reduce: ConvBnRelu;
  readonly refine1: ConvBnRelu;
  readonly refine2: ConvBnRelu;
  readonly classifier: Conv2d;

  constructor(name: string, spec: DeepLabV3PlusDecoderSpec) {
    super(name);
    this.spec = resolveDecoderSpec(spec);
    const { inChannels, lowLevelChannels, lowLevelFilters, filters, numClasses } = this.spec;
    const rng = spec.rng;
    this.reduce = this.addChild('reduce', (n) => new ConvBnRelu(n, { inChannels: lowLevelChannels, outChannels: lowLevelFilters, kernelSize: 1, rng }));
    this.refine1 = this.addChild('refine1', (n) => new ConvBnRelu(n, { inChannels: inChannels + lowLevelFilters, outChannels: filters, kernelSize: 3, rng }));
    this.refine2 = this.addChild('refine2', (n) => new ConvBnRelu(n, { inChannels: filters, outChannels: filters, kernelSize: 3, rng }));
    this.classifier = this.addChild('classifier', (n) => new Conv2d(n, { inChannels: filters, outChannels: numClasses, kernelSize: 1, bias: true, rng }));
  }

  /** Logits at the low-level feature's spatial size. */
  apply(encoder: tf.Tensor4D, lowLevel: tf.Tensor4D): tf.Tensor4D {
    const { inChannels, lowLevelChannels } = this.spec;
    if (encoder.shape[3] !== inChannels) throw new Error(`${this.name}: encoder feature has ${encoder.shape[3]} channels, expected ${inChannels}`);
    if (lowLevel.shape[3] !== lowLevelChannels) {
      throw new Error(`${this.name}: low-level feature has ${lowLevel.shape[3]} channels, expected ${lowLevelChannels}`);
    }
    const [, h, w] = lowLevel.shape;
    const up = resizeBilinear(encoder, h, w);
    const y = tf.concat([up, this.reduce.apply(lowLevel)], 3);
    return this.classifier.apply(this.refine2.apply(this.refine1.apply(y)));
  }

  static parameterCount(spec: Omit<DeepLabV3PlusDecoderSpec, 'rng'>): number {
    const { inChannels, lowLevelChannels, lowLevelFilters, filters, numClasses } = resolveDecoderSpec(spec);
    return (
      ConvBnRelu.parameterCount({ inChannels: lowLevelChannels, outChannels: lowLevelFilters, kernelSize: 1 }) +
      ConvBnRelu.parameterCount({ inChannels: inChannels + lowLevelFilters, outChannels: filters, kernelSize: 3 }) +
      ConvBnRelu.parameterCount({ inChannels: filters, outChannels: filters, kernelSize: 3 }) +
      filters * numClasses +
      numClasses
    );
  }

  /** Conv multiply-adds for a low-level feature of `height × width` (per image). */
  static multiAdds(spec: Omit<DeepLabV3PlusDecoderSpec, 'rng'>, height: number, width: number): number {
    const { inChannels, lowLevelChannels, lowLevelFilters, filters, numClasses } = resolveDecoderSpec(spec);
    return (
      convMultiAdds(height, width, 1, lowLevelChannels, lowLevelFilters) +
      convMultiAdds(height, width, 3, inChannels + lowLevelFilters, filters) +
      convMultiAdds(height, width, 3, filters, filters) +
      convMultiAdds(height, width, 1, filters, numClasses)
    );
  }
}
