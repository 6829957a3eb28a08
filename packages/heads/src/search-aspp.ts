import * as tf from '@tensorflow/tfjs';
import { Conv2d, Module, UserInputError, type Layer, type Rng } from '@autodeeplab/core';
import { ConvBnRelu, ImagePooling, convMultiAdds } from './conv-bn-relu.js';

export interface SearchASPPSpec {
  /** Channels of the input: the cell output `B·F·s/4` of the trellis node the head sits on. */
  inChannels: number;
  /** Downsample rate of the input (4, 8, 16 or 32); the atrous rate is `96 / scale`. */
  scale: number;
  numClasses: number;
  /** Filters of each branch (default `inChannels`, i.e. `B·F·s/4` as in the paper). */
  filters?: number;
  /**
   * BN in the image-pooling branch (default false). During search the batch is 2: a BN over two
   * pooled vectors only outputs ±1, so the branch uses a 1×1 conv with bias and a ReLU instead.
   */
  poolingBatchNorm?: boolean;
  rng: Rng;
}

/** The resolved spec (defaults filled in). */
export type ResolvedSearchASPPSpec = Required<Omit<SearchASPPSpec, 'rng'>> & { rate: number };

export function resolveSearchASPPSpec(spec: Omit<SearchASPPSpec, 'rng'>): ResolvedSearchASPPSpec {
  const { inChannels, scale, numClasses } = spec;
  if (!Number.isInteger(inChannels) || inChannels < 1) throw new UserInputError(`SearchASPP: inChannels must be a positive integer, found ${inChannels}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new UserInputError(`SearchASPP: numClasses must be a positive integer, found ${numClasses}`);
  const rate = 96 / scale;
  if (!Number.isInteger(rate) || rate < 1) {
    throw new UserInputError(`SearchASPP: scale must divide 96 (4, 8, 16, 32), found ${scale}`);
  }
  return { inChannels, scale, numClasses, filters: spec.filters ?? inChannels, poolingBatchNorm: spec.poolingBatchNorm ?? false, rate };
}

/**
 * The search-time ASPP of Auto-DeepLab (paper §4.1, §5.1): on a node at scale s, three branches
 * (1×1 conv, 3×3 atrous conv of rate 96/s, image pooling), each conv-BN-ReLU with `B·F·s/4` filters,
 * concatenated and mapped to class logits by a 1×1 conv with bias. Logits keep the input's size; the
 * supernet upsamples and sums the heads.
 */
export class SearchASPP extends Module implements Layer {
  readonly spec: ResolvedSearchASPPSpec;
  readonly conv1x1: ConvBnRelu;
  readonly atrous: ConvBnRelu;
  readonly pooling: ImagePooling;
  readonly classifier: Conv2d;

  constructor(name: string, spec: SearchASPPSpec) {
    super(name);
    this.spec = resolveSearchASPPSpec(spec);
    const { inChannels, filters, rate, numClasses, poolingBatchNorm } = this.spec;
    const rng = spec.rng;
    this.conv1x1 = this.addChild('conv1x1', (n) => new ConvBnRelu(n, { inChannels, outChannels: filters, kernelSize: 1, rng }));
    this.atrous = this.addChild('atrous', (n) => new ConvBnRelu(n, { inChannels, outChannels: filters, kernelSize: 3, dilation: rate, rng }));
    this.pooling = this.addChild('pooling', (n) => new ImagePooling(n, { inChannels, outChannels: filters, batchNorm: poolingBatchNorm, rng }));
    this.classifier = this.addChild('classifier', (n) => new Conv2d(n, { inChannels: 3 * filters, outChannels: numClasses, kernelSize: 1, bias: true, rng }));
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    if (x.shape[3] !== this.spec.inChannels) {
      throw new Error(`${this.name}: input has ${x.shape[3]} channels, expected ${this.spec.inChannels}`);
    }
    const branches = [this.conv1x1.apply(x), this.atrous.apply(x), this.pooling.apply(x)];
    return this.classifier.apply(tf.concat(branches, 3));
  }

  static parameterCount(spec: Omit<SearchASPPSpec, 'rng'>): number {
    const { inChannels, filters, numClasses, poolingBatchNorm } = resolveSearchASPPSpec(spec);
    return (
      ConvBnRelu.parameterCount({ inChannels, outChannels: filters, kernelSize: 1 }) +
      ConvBnRelu.parameterCount({ inChannels, outChannels: filters, kernelSize: 3 }) +
      ConvBnRelu.parameterCount({ inChannels, outChannels: filters, kernelSize: 1, batchNorm: poolingBatchNorm }) +
      3 * filters * numClasses +
      numClasses
    );
  }

  /** Conv multiply-adds of one forward on an input of `height × width` (per image). */
  static multiAdds(spec: Omit<SearchASPPSpec, 'rng'>, height: number, width: number): number {
    const { inChannels, filters, numClasses } = resolveSearchASPPSpec(spec);
    return (
      convMultiAdds(height, width, 1, inChannels, filters) +
      convMultiAdds(height, width, 3, inChannels, filters) +
      convMultiAdds(1, 1, 1, inChannels, filters) +
      convMultiAdds(height, width, 1, 3 * filters, numClasses)
    );
  }
}
