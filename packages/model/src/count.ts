import { UserInputError, parseWithSchema } from '@autodeeplab/core';
import { GenotypeSchema, type Genotype } from '@autodeeplab/genotype';
import { ASPP, DeepLabV3PlusDecoder, convMultiAdds } from '@autodeeplab/heads';
import { assertOpsRegistered, countOpParameters } from '@autodeeplab/ops';
import { resolveNetworkConfig, type BuildNetworkOptions, type NetworkConfig } from './config.js';
import { branchStride, cellInputScale, planNetwork, sizeAtScale, type NetworkPlan } from './plan.js';
import { atrousKernelSize } from './resized-atrous.js';

/** ReLU-1×1-BN (affine) projection: kernel + γ/β. */
const projectionParameters = (inChannels: number, outChannels: number) => inChannels * outChannels + 2 * outChannels;

function prepare(genotype: Genotype, options: BuildNetworkOptions): { genotype: Genotype; config: NetworkConfig; plan: NetworkPlan } {
  const parsed = parseWithSchema(GenotypeSchema, genotype, 'genotype');
  const config = resolveNetworkConfig(options);
  return { genotype: parsed, config, plan: planNetwork(parsed, config) };
}

function asppSpec(config: NetworkConfig, plan: NetworkPlan) {
  return { inChannels: plan.encoderChannels, filters: config.asppFilters, rates: config.asppRates, poolingBatchNorm: config.asppPoolingBatchNorm };
}

function decoderSpec(config: NetworkConfig, plan: NetworkPlan) {
  return {
    inChannels: config.asppFilters,
    lowLevelChannels: plan.lowLevelChannels,
    numClasses: config.numClasses,
    lowLevelFilters: config.lowLevelFilters,
    filters: config.decoderFilters,
  };
}

/**
 * Trainable parameters of the network `buildNetwork(genotype, options)` would build, computed from
 * shapes without allocating it (ops without a formula in their registry meta are built once, small).
 * BN running statistics are buffers, not parameters.
 */
export function countParameters(genotype: Genotype, options: BuildNetworkOptions): number {
  const { genotype: g, config, plan } = prepare(genotype, options);
  assertOpsRegistered([...new Set(g.cell.flatMap((block) => block.map((b) => b.op)))], 'genotype');
  let total = 0;
  let channels = config.inChannels;
  for (const filters of config.stemFilters) {
    total += 9 * channels * filters + 2 * filters;
    channels = filters;
  }
  for (const cell of plan.cells) {
    total += projectionParameters(cell.prevChannels, cell.width);
    if (cell.projectPrevPrev) total += projectionParameters(cell.prevPrevChannels, cell.width);
    for (const block of g.cell) {
      for (const branch of block) {
        total += countOpParameters(branch.op, { channels: cell.width, stride: branchStride(cell, branch.input), affine: true });
      }
    }
  }
  total += ASPP.parameterCount(asppSpec(config, plan));
  total += DeepLabV3PlusDecoder.parameterCount(decoderSpec(config, plan));
  return total;
}

/** Shape of one op application, for Multi-Add formulas: output size, channels and stride. */
export interface OpCostSpec {
  channels: number;
  stride: 1 | 2;
  outHeight: number;
  outWidth: number;
}

/** Multi-Adds of the built-in ops (conv multiply-adds only; pooling, identity and zero are free). */
export function builtinOpMultiAdds(name: string, spec: OpCostSpec): number | undefined {
  const { channels: c, stride, outHeight: h, outWidth: w } = spec;
  const sep = /^sep_conv_(\d+)x\1$/.exec(name);
  if (sep) {
    const k = Number(sep[1]);
    // (depthwise k×k + pointwise 1×1) twice, all at the output resolution.
    return 2 * (convMultiAdds(h, w, k, 1, c) + convMultiAdds(h, w, 1, c, c));
  }
  const dil = /^dil_conv_(\d+)x\1$/.exec(name);
  if (dil) return convMultiAdds(h, w, Number(dil[1]), c, c);
  switch (name) {
    case 'none':
    case 'max_pool_3x3':
    case 'avg_pool_3x3':
      return 0;
    case 'skip_connect':
      // Identity at stride 1; FactorizedReduce (two 1×1 convs to c/2 each) at stride 2.
      return stride === 1 ? 0 : convMultiAdds(h, w, 1, c, c);
    default:
      return undefined;
  }
}

export interface MultiAddsOptions {
  height: number;
  width: number;
  /** Multi-Adds of ops that are not built in; without it, a genotype using one is an error. */
  opMultiAdds?: (name: string, spec: OpCostSpec) => number | undefined;
  /**
   * Count every dilated conv (the cells' rate-2 atrous ops at stride 1, the ASPP's atrous branches) as
   * TensorFlow 1.x's `tf.nn.convolution` runs it: a VALID conv over space-to-batch phases padded to a
   * multiple of the rate, i.e. ceil(n/r)·r outputs per dimension instead of n. Not the network's
   * arithmetic, but what a graph profiler of the official code counts (default false).
   */
  spaceToBatchAtrous?: boolean;
}

/** Multi-Adds of one forward pass per part of the network. */
export interface MultiAddsBreakdown {
  stem: number;
  cells: number[];
  aspp: number;
  decoder: number;
  total: number;
}

/**
 * Multi-Adds of one forward pass of one image of `height × width`, computed analytically from
 * shapes. Convention (the paper's): only convolution multiply-adds count, `Hout·Wout·k²·Cin·Cout`
 * (`Hout·Wout·k²·C` for depthwise convs); BN, ReLU, pooling, resizes and additions are free.
 */
export function countMultiAdds(genotype: Genotype, options: BuildNetworkOptions, size: MultiAddsOptions): MultiAddsBreakdown {
  const { genotype: g, config, plan } = prepare(genotype, options);
  const { height: H, width: W } = size;
  if (!Number.isInteger(H) || !Number.isInteger(W) || H < 1 || W < 1) {
    throw new UserInputError(`countMultiAdds: height and width must be positive integers, found ${H}×${W}`);
  }
  const at = (s: number): [number, number] => [sizeAtScale(H, s), sizeAtScale(W, s)];
  const [f0, f1, f2] = config.stemFilters;
  const [h2, w2] = at(2);
  const [h4, w4] = at(4);
  const stem = convMultiAdds(h2, w2, 3, config.inChannels, f0) + convMultiAdds(h2, w2, 3, f0, f1) + convMultiAdds(h4, w4, 3, f1, f2);
  const cells = plan.cells.map((cell) => {
    const [hi, wi] = at(cellInputScale(cell));
    const [ho, wo] = at(cell.scale);
    let macs = convMultiAdds(hi, wi, 1, cell.prevChannels, cell.width);
    if (cell.projectPrevPrev) macs += convMultiAdds(hi, wi, 1, cell.prevPrevChannels, cell.width);
    for (const block of g.cell) {
      for (const branch of block) {
        const stride = branchStride(cell, branch.input);
        // A rate-2 atrous op at stride 1 runs over 2×2 space-to-batch phases in TensorFlow 1.x.
        const phases = size.spaceToBatchAtrous && stride === 1 && atrousKernelSize(branch.op) !== undefined ? 2 : 1;
        const spec: OpCostSpec = { channels: cell.width, stride, outHeight: Math.ceil(ho / phases) * phases, outWidth: Math.ceil(wo / phases) * phases };
        const cost = builtinOpMultiAdds(branch.op, spec) ?? size.opMultiAdds?.(branch.op, spec);
        if (cost === undefined) {
          throw new UserInputError(`countMultiAdds: Multi-Adds of op '${branch.op}' are unknown; pass opMultiAdds(name, spec) for it`);
        }
        macs += cost;
      }
    }
    return macs;
  });
  const [h8, w8] = at(8);
  const aspp = ASPP.multiAdds(asppSpec(config, plan), h8, w8, { spaceToBatchAtrous: size.spaceToBatchAtrous ?? false });
  const decoder = DeepLabV3PlusDecoder.multiAdds(decoderSpec(config, plan), h4, w4);
  const total = stem + cells.reduce((a, b) => a + b, 0) + aspp + decoder;
  return { stem, cells, aspp, decoder, total };
}
