import * as tf from '@tensorflow/tfjs';
import { Module, UserInputError, type Layer, type Rng } from '@autodeeplab/core';
import { ConvBnRelu, ImagePooling, convMultiAdds } from './conv-bn-relu.js';

/** DeepLabv3 rates 6/12/18 at output stride 16 double to 12/24/36 at output stride 8. */
export const ASPP_RATES_OS8 = [12, 24, 36] as const;

export interface ASPPSpec {
  inChannels: number;
  /** Filters of each branch and of the projection (default 256). */
  filters?: number;
  /** Rates of the 3×3 atrous branches (default 12, 24, 36: DeepLabv3+ at output stride 8). */
  rates?: readonly number[];
  /** BN in the image-pooling branch (default true, as DeepLab; degenerate when training at batch 1). */
  poolingBatchNorm?: boolean;
  rng: Rng;
}

export type ResolvedASPPSpec = Required<Omit<ASPPSpec, 'rng'>>;

export function resolveASPPSpec(spec: Omit<ASPPSpec, 'rng'>): ResolvedASPPSpec {
  const rates = [...(spec.rates ?? ASPP_RATES_OS8)];
  const filters = spec.filters ?? 256;
  if (!Number.isInteger(spec.inChannels) || spec.inChannels < 1) {
    throw new UserInputError(`ASPP: inChannels must be a positive integer, found ${spec.inChannels}`);
  }
  if (!Number.isInteger(filters) || filters < 1) throw new UserInputError(`ASPP: filters must be a positive integer, found ${filters}`);
  for (const r of rates) {
    if (!Number.isInteger(r) || r < 1) throw new UserInputError(`ASPP: atrous rates must be positive integers, found [${rates}]`);
  }
  return { inChannels: spec.inChannels, filters, rates, poolingBatchNorm: spec.poolingBatchNorm ?? true };
}

/**
 * The DeepLabv3 ASPP of the final network: a 1×1 branch, one 3×3 atrous branch per rate and image
 * pooling, each conv-BN-ReLU with `filters` outputs, concatenated and projected by a 1×1 conv-BN-ReLU
 * to `filters` channels. All convs are regular (not separable) and bias-free.
 */
export class ASPP extends Module implements Layer {
  readonly spec: ResolvedASPPSpec;
  readonly branches: ConvBnRelu[];
  readonly pooling: ImagePooling;
  readonly projection: ConvBnRelu;

  constructor(name: string, spec: ASPPSpec) {
    super(name);
    this.spec = resolveASPPSpec(spec);
    const { inChannels, filters, rates, poolingBatchNorm } = this.spec;
    const rng = spec.rng;
    this.branches = [this.addChild('conv1x1', (n) => new ConvBnRelu(n, { inChannels, outChannels: filters, kernelSize: 1, rng }))];
    rates.forEach((rate, i) => {
      this.branches.push(this.addChild(`atrous${i + 1}`, (n) => new ConvBnRelu(n, { inChannels, outChannels: filters, kernelSize: 3, dilation: rate, rng })));
    });
    this.pooling = this.addChild('pooling', (n) => new ImagePooling(n, { inChannels, outChannels: filters, batchNorm: poolingBatchNorm, rng }));
    this.projection = this.addChild(
      'projection',
      (n) => new ConvBnRelu(n, { inChannels: (rates.length + 2) * filters, outChannels: filters, kernelSize: 1, rng }),
    );
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    if (x.shape[3] !== this.spec.inChannels) {
      throw new Error(`${this.name}: input has ${x.shape[3]} channels, expected ${this.spec.inChannels}`);
    }
    const outs = this.branches.map((b) => b.apply(x));
    outs.push(this.pooling.apply(x));
    return this.projection.apply(tf.concat(outs, 3));
  }

  static parameterCount(spec: Omit<ASPPSpec, 'rng'>): number {
    const { inChannels, filters, rates, poolingBatchNorm } = resolveASPPSpec(spec);
    return (
      ConvBnRelu.parameterCount({ inChannels, outChannels: filters, kernelSize: 1 }) +
      rates.length * ConvBnRelu.parameterCount({ inChannels, outChannels: filters, kernelSize: 3 }) +
      ConvBnRelu.parameterCount({ inChannels, outChannels: filters, kernelSize: 1, batchNorm: poolingBatchNorm }) +
      ConvBnRelu.parameterCount({ inChannels: (rates.length + 2) * filters, outChannels: filters, kernelSize: 1 })
    );
  }

  /**
   * Conv multiply-adds of one forward on an input of `height × width` (per image). With
   * `spaceToBatchAtrous`, each atrous branch is counted as TensorFlow 1.x executes it
   * (ceil(n/r)·r outputs per dimension), not as its arithmetic needs.
   */
  static multiAdds(spec: Omit<ASPPSpec, 'rng'>, height: number, width: number, options: { spaceToBatchAtrous?: boolean } = {}): number {
    const { inChannels, filters, rates } = resolveASPPSpec(spec);
    // TensorFlow 1.x runs a rate-r conv as a VALID conv over space-to-batch phases padded to a multiple of r.
    const atrousOutputs = (n: number, rate: number) => (options.spaceToBatchAtrous && rate > 1 ? Math.ceil(n / rate) * rate : n);
    const atrous = rates.reduce((sum, rate) => sum + convMultiAdds(atrousOutputs(height, rate), atrousOutputs(width, rate), 3, inChannels, filters), 0);
    return (
      convMultiAdds(height, width, 1, inChannels, filters) +
      atrous +
      convMultiAdds(1, 1, 1, inChannels, filters) +
      convMultiAdds(height, width, 1, (rates.length + 2) * filters, filters)
    );
  }
}
