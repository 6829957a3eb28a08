import { branchStride, type Cell, type Network, type Stem } from '@autodeeplab/model';
import type { ASPP, DeepLabV3PlusDecoder } from '@autodeeplab/heads';
import { UserInputError } from '@autodeeplab/core';
import type { OnnxGraph } from './graph.js';
import { emitBatchNorm, emitConv2d, emitConvBnRelu, emitReLUConvBN, emitRelu } from './layers.js';
import { assertOnnxMappings, getOnnxMapping } from './registry.js';

/** A value of the graph with the downsampling rate of its spatial size. */
interface Feature {
  value: string;
  scale: number;
}

/** Stem: conv-BN-ReLU, conv-BN (the s = 2 output), ReLU-conv-BN (the s = 4 output). */
function emitStem(graph: OnnxGraph, stem: Stem, x: string): [Feature, Feature] {
  const [c0, c1, c2] = stem.convs;
  const [b0, b1, b2] = stem.bns;
  const h0 = emitRelu(graph, emitBatchNorm(graph, b0!, emitConv2d(graph, c0!, x)), stem.name);
  const s2 = emitBatchNorm(graph, b1!, emitConv2d(graph, c1!, h0));
  const s4 = emitBatchNorm(graph, b2!, emitConv2d(graph, c2!, emitRelu(graph, s2, stem.name)));
  return [
    { value: s2, scale: 2 },
    { value: s4, scale: 4 },
  ];
}

/** A bilinear half-pixel resize (core's resizeBilinear) of `feature` to `scale`, or the feature itself at that scale. */
function resizeTo(graph: OnnxGraph, feature: Feature, scale: number, name: string): Feature {
  if (feature.scale === scale) return feature;
  return { value: graph.resizeBilinear(feature.value, graph.sizeAtScale(scale), 'half_pixel', name), scale };
}

/** One cell (model's Cell.apply in inference: no drop-path). */
function emitCell(graph: OnnxGraph, cell: Cell, prevIn: Feature, prevPrevIn: Feature): Feature {
  const { plan } = cell;
  const prev = plan.transition === 'up' ? resizeTo(graph, prevIn, plan.scale, cell.name) : prevIn;
  let prevPrev = resizeTo(graph, prevPrevIn, prev.scale, cell.name);
  if (cell.preprocessPrevPrev) prevPrev = { value: emitReLUConvBN(graph, cell.preprocessPrevPrev, prevPrev.value), scale: prevPrev.scale };
  const states = new Map<string, Feature>([
    ['prev', { value: emitReLUConvBN(graph, cell.preprocess, prev.value), scale: prev.scale }],
    ['prev_prev', prevPrev],
  ]);
  const outputs: string[] = [];
  cell.blocks.forEach((block, b) => {
    const [left, right] = block.map((branch, i) => {
      const input = states.get(branch.input)!;
      const op = cell.ops[b]![i]!;
      const stride = branchStride(plan, branch.input);
      const output = getOnnxMapping(branch.op)!({ opName: branch.op, op, input: input.value, channels: plan.width, stride, inputScale: input.scale, graph });
      if (typeof output !== 'string' || output.length === 0) {
        throw new UserInputError(`ONNX mapping of op '${branch.op}' (${op.name}) must return the output value's name, found ${String(output)}`);
      }
      return output;
    });
    const out = graph.node('Add', [left!, right!], {}, `${cell.name}/block${b + 1}`);
    states.set(`block${b + 1}`, { value: out, scale: plan.scale });
    outputs.push(out);
  });
  return { value: graph.node('Concat', outputs, { axis: 1 }, cell.name), scale: plan.scale };
}

/** ASPP: the 1×1 and atrous branches, image pooling broadcast back to the input's size, projection. */
function emitAspp(graph: OnnxGraph, aspp: ASPP, x: Feature): string {
  const outs = aspp.branches.map((branch) => emitConvBnRelu(graph, branch, x.value));
  const pooled = emitConvBnRelu(graph, aspp.pooling.unit, graph.node('GlobalAveragePool', [x.value], {}, aspp.pooling.name));
  // Expand broadcasts [N, C, 1, 1] against [1, 1, h, w].
  const shape = graph.node('Concat', [graph.int64s(`${aspp.pooling.name}/ones`, [1, 1]), graph.sizeAtScale(x.scale)], { axis: 0 }, aspp.pooling.name);
  outs.push(graph.node('Expand', [pooled, shape], {}, aspp.pooling.name));
  return emitConvBnRelu(graph, aspp.projection, graph.node('Concat', outs, { axis: 1 }, aspp.name));
}

/** DeepLabv3+ decoder: logits at the low-level feature's size. */
function emitDecoder(graph: OnnxGraph, decoder: DeepLabV3PlusDecoder, encoder: Feature, lowLevel: Feature): string {
  const up = resizeTo(graph, encoder, lowLevel.scale, decoder.name);
  const y = graph.node('Concat', [up.value, emitConvBnRelu(graph, decoder.reduce, lowLevel.value)], { axis: 1 }, decoder.name);
  return emitConv2d(graph, decoder.classifier, emitConvBnRelu(graph, decoder.refine2, emitConvBnRelu(graph, decoder.refine1, y)));
}

/**
 * The discrete network (model's Network.forward in eval mode) on the NCHW input `graph.input`:
 * stem, cells, ReLU + ASPP at output stride 8, decoder, logits resized to the input size. Returns
 * the NCHW logits' name. Every op of the genotype needs an ONNX mapping (checked first).
 */
export function emitNetwork(graph: OnnxGraph, network: Network): string {
  assertOnnxMappings(
    network.genotype.cell.flatMap((block) => block.map((branch) => branch.op)),
    `exportOnnx (genotype '${network.genotype.name ?? 'unnamed'}')`,
  );
  const stem = emitStem(graph, network.stem, graph.input);
  const states: Feature[] = [...stem];
  const cells = network.cells.map((cell) => {
    const out = emitCell(graph, cell, states[states.length - 1]!, states[states.length - 2]!);
    states.push(out);
    return out;
  });
  const lowLevel = network.plan.lowLevelCell < 0 ? stem[1] : cells[network.plan.lowLevelCell]!;
  const last = resizeTo(graph, cells[cells.length - 1]!, 8, 'encoder');
  const encoder = { value: emitRelu(graph, last.value, 'encoder'), scale: 8 };
  const aspp = { value: emitAspp(graph, network.aspp, encoder), scale: 8 };
  const decoderLogits = { value: emitDecoder(graph, network.decoder, aspp, lowLevel), scale: lowLevel.scale };
  return resizeTo(graph, decoderLogits, 1, 'logits').value;
}
