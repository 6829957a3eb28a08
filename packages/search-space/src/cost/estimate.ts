import { memorySource, type MemorySource } from '@autodeeplab/core';
import { cellEdges } from '@autodeeplab/genotype';
import { SearchASPP } from '@autodeeplab/heads';
import { countOpParameters, getStackedForm, isZeroOp } from '@autodeeplab/ops';
import { nodeSize, parseSearchSpaceConfig, type SearchSpaceConfig, type SearchSpaceConfigInput } from '../config.js';
import { defaultReplayBudgetBytes } from '../fast/replay.js';
import { planTrellis } from '../supernet.js';
import { BYTES, MEASURED_FOOTPRINTS, NO_FOOTPRINTS, opKeptPreActivated, opMultiAddsPerPixel, type Footprint, type Footprints } from './footprint.js';

export interface CostInput {
  height: number;
  width: number;
  /** Images per batch (default 1). */
  batch?: number;
  /** The forward's `replayBudgetBytes` (default: `defaultReplayBudgetBytes()` of the current backend). */
  replayBudgetBytes?: number;
}

export interface CostEstimate {
  /** Trainable parameters: all, α + β, and the rest. */
  parameters: { total: number; arch: number; weight: number };
  /** Convolution multiply-adds of one forward pass of the whole batch (the fused forward). */
  multiAdds: number;
  /** The same per image. */
  multiAddsPerImage: number;
  /**
   * Bytes of the tensors the gradient tape keeps for the backward pass of one per-op fused
   * (`forward(x, {stacked: false})`) train-mode forward without recomputation (tfjs frees every
   * other forward intermediate before the backward pass starts): what a supernet that keeps every
   * intermediate would hold. The peak of a forward + backward is higher (the gradients accumulate on
   * top of these); the default forward holds far less (see `trainingPeakBytes`).
   */
  activationBytes: number;
  /**
   * Estimated peak memory of one training step (forward + backward, gradients of every parameter)
   * of the default forward (stacked, every trellis node recomputed in the backward), on top of the
   * weights and the input: the parameters' gradients; the stem's and heads' tapes and the node
   * outputs the recomputed nodes keep, with their gradients; the convolution outputs the nodes keep
   * for their recomputation (`replayedOutputs` of the stacked forms: the heavy ones, and the light
   * ones in forward order up to the replay budget); and the largest node's recomputation — its tape
   * and its intermediates' gradients (tfjs keeps every gradient until the backward pass that made
   * it ends, for a recomputed node its own), counted as the per-op tape of that node, which it
   * measures close to (the test checks the estimate against a measured step).
   */
  trainingPeakBytes: number;
  /** Which memory the probes measured (see `trackMemory` of @autodeeplab/core). */
  memorySource: MemorySource;
}

/**
 * Parameters, Multi-Adds and the activation memory of one training step of the supernet for a
 * config and input size, without building the supernet. Parameters and Multi-Adds are exact counts;
 * activation bytes add up the tensors the tape keeps for each part of the fused forward, with the
 * registry ops, transitions, stem layers and heads measured once on 16×16 inputs (so a backend must
 * be initialised) and scaled by their element counts.
 */
export function estimateCost(configInput: SearchSpaceConfigInput | SearchSpaceConfig, input: CostInput): CostEstimate {
  return walk(parseSearchSpaceConfig(configInput), input, MEASURED_FOOTPRINTS);
}

/** Trainable parameters of the supernet of a config (no backend needed, nothing built but one op per kind). */
export function countSupernetParameters(configInput: SearchSpaceConfigInput | SearchSpaceConfig): CostEstimate['parameters'] {
  return walk(parseSearchSpaceConfig(configInput), { height: 1, width: 1 }, NO_FOOTPRINTS).parameters;
}

/** Conv Multi-Adds of one fused forward per image (no backend needed). */
export function countSupernetMultiAdds(configInput: SearchSpaceConfigInput | SearchSpaceConfig, input: Omit<CostInput, 'batch'>): number {
  return walk(parseSearchSpaceConfig(configInput), input, NO_FOOTPRINTS).multiAddsPerImage;
}

function walk(config: SearchSpaceConfig, input: CostInput, footprints: Footprints): CostEstimate {
  const { layers, blocks, ops, numClasses, affine } = config;
  const measured = footprints === MEASURED_FOOTPRINTS;
  const batch = input.batch ?? 1;
  const { height, width } = input;
  // The Supernet's own structure walk: the nodes, their inputs' widths and the heads, in build order.
  const plan = planTrellis(config);
  const edgesPerCell = cellEdges(blocks).length;
  const positions = (scale: number) => nodeSize(height, scale) * nodeSize(width, scale);
  const [c1, c2] = plan.stem;
  const anyPreActivated = ops.filter((o) => !isZeroOp(o)).some((o) => opKeptPreActivated(o));
  const replayBudget = measured ? (input.replayBudgetBytes ?? defaultReplayBudgetBytes()) / BYTES : 0;

  let params = 0;
  let macs = 0; // per image
  // Memory in elements (bytes / 4) for the batch: outside the trellis (stem, heads, logits), and per
  // node its own tape and forward allocations, and its output.
  const stem = new Ledger();
  const heads = new Ledger();
  let nodeTapes = 0;
  // The largest recomputation, with the replayed outputs still alive then (those of the nodes up to
  // it: the backward runs from the last layer to the first).
  let largestRecompute = 0;
  let nodeOutputs = 0;
  let nodeReplays = 0;
  let heavyReplays = 0;
  let lightReplays = 0;

  // Stem: two 3×3 stride-2 conv-BN(affine)-ReLU.
  const p2 = nodeSize(height, 2) * nodeSize(width, 2);
  params += 27 * c1 + 2 * c1 + 9 * c1 * c2 + 2 * c2;
  macs += p2 * 27 * c1 + positions(4) * 9 * c1 * c2;
  stem.addProbed(batch * p2 * c1, footprints.stem(3, c1));
  stem.addProbed(batch * positions(4) * c2, footprints.stem(c1, c2));
  stem.addSaved(batch * positions(4) * c2); // the stem output, saved by its ReLU

  for (const { layer, scale, channels: f, incoming, prevPrevChannels, prevPrevSource } of plan.nodes) {
    const elems = batch * positions(scale) * f;
    const node = new Ledger();
    // A ReLU saves its input: each cell input once (shared by its edges' ops).
    const relu = anyPreActivated ? elems : 0;
    for (const { edge: e, inChannels: cin } of incoming) {
      const k = e.direction === 'down' ? 3 : 1;
      params += k * k * cin * f + (affine ? 2 * f : 0);
      macs += positions(scale) * k * k * cin * f;
      node.addProbed(elems, footprints.transition(e.direction, cin, f, affine));
      node.addSaved(relu);
    }
    if (prevPrevChannels !== undefined) {
      params += prevPrevChannels * f + (affine ? 2 * f : 0);
      macs += positions(scale) * prevPrevChannels * f;
      node.addProbed(elems, footprints.transition('same', prevPrevChannels, f, affine));
      node.addSaved(relu);
    }
    // Cell: ops of every edge it has (a dropped H^{l−2} removes its B edges, one per block); the
    // prev_prev edges run once per node when node (l − 2, s) exists, once per call when prev substitutes.
    const cell = cellCost(ops, f, affine, footprints);
    const cellEdgeCount = prevPrevSource === 'none' ? edgesPerCell - blocks : edgesPerCell;
    params += cellEdgeCount * cell.params;
    const calls = incoming.length;
    const edgeRuns = prevPrevSource === 'node' ? blocks + calls * (edgesPerCell - blocks) : calls * cellEdgeCount;
    macs += edgeRuns * positions(scale) * cell.macs;
    node.addScaled(edgeRuns * elems, cell.memory);
    // Convolution outputs a recomputed node keeps from its forward pass until its backward.
    heavyReplays += edgeRuns * elems * cell.replayed.heavy;
    lightReplays = Math.min(replayBudget, lightReplays + edgeRuns * elems * cell.replayed.light);
    nodeReplays = heavyReplays + lightReplays;
    // Per call: the ReLUs of blocks 1..B−1 (read by later blocks) save the blocks; the concat saves
    // all blocks; the β-weighted sum saves the concatenation.
    node.addSaved(calls * elems * ((anyPreActivated ? blocks - 1 : 0) + (blocks > 1 ? 2 * blocks : blocks)));
    nodeTapes += node.kept;
    largestRecompute = Math.max(largestRecompute, nodeReplays + node.kept);
    // The node output, saved by the next layer's ReLU (or by the head's convs, counted in its probe).
    if (layer < layers) nodeOutputs += blocks * elems;
  }

  for (const { scale, inChannels } of plan.heads) {
    const spec = { inChannels, scale, numClasses };
    params += SearchASPP.parameterCount(spec);
    macs += SearchASPP.multiAdds(spec, nodeSize(height, scale), nodeSize(width, scale));
    // Its own saves, then its logits saved by the upsampling, the upsampled logits by the sum over heads.
    heads.addProbed(batch * positions(scale), footprints.head(scale, inChannels, numClasses));
    heads.addSaved(batch * positions(scale) * numClasses);
    if (plan.heads.length > 1) heads.addSaved(batch * height * width * numClasses);
  }
  heads.addSaved(batch * height * width * numClasses); // the logits, kept by the loss

  const arch = edgesPerCell * ops.length + plan.topology.betaSize;
  // The recomputed step: every gradient of the parameters, the stem's and heads' tapes, the node
  // outputs kept by the recomputed nodes and their gradients, the heads' gradients (made first), then
  // the largest of: the convolution outputs the nodes keep for their recomputation (all alive as
  // the backward starts, each freed after its node's backward), a node's recomputation
  // (its tape and its intermediates' gradients, freed when its backward pass ends) with the kept
  // outputs of the nodes before it, and the stem's gradients (made last). The stacked node
  // keeps much less than the per-op forward this walk models (shared ReLUs, stacked kernels,
  // buffers shared by saved tensors); its tape plus gradients measure about the per-op tape of
  // the node (see the README), which stands for it.
  const peak = params + arch + stem.kept + heads.kept + heads.forward + 2 * nodeOutputs + Math.max(nodeReplays, largestRecompute, stem.forward);
  return {
    parameters: { total: params + arch, arch, weight: params },
    multiAdds: macs * batch,
    multiAddsPerImage: macs,
    activationBytes: Math.round((stem.kept + heads.kept + nodeTapes + nodeOutputs) * BYTES),
    trainingPeakBytes: Math.round(peak * BYTES),
    memorySource: measured ? memorySource() : 'tensor-bytes',
  };
}

/** Per edge of a cell at `channels`: parameters, Multi-Adds per pixel, memory per element, replayed outputs per element. */
function cellCost(ops: readonly string[], channels: number, affine: boolean, footprints: Footprints) {
  let params = 0;
  let macs = 0;
  const memory = new Ledger();
  const replayed = { heavy: 0, light: 0 };
  for (const name of ops) {
    params += countOpParameters(name, { channels, stride: 1, affine });
    macs += opMultiAddsPerPixel(name, channels, affine);
    const form = getStackedForm(name)?.replayedOutputs;
    replayed.heavy += form?.heavy ?? 0;
    replayed.light += form?.light ?? 0;
    if (isZeroOp(name)) continue;
    // Its own saves, plus its output saved by the block's weighted sum.
    memory.addProbed(1, footprints.op(name, channels, affine));
    memory.addSaved(1);
  }
  return { params, macs, memory, replayed };
}

/** Tape and forward allocations (elements) of a part of the supernet. */
class Ledger {
  kept = 0;
  forward = 0;

  /** `units` units of a probed component (its footprint is in bytes per unit). */
  addProbed(units: number, footprint: Footprint): void {
    this.kept += (units * footprint.kept) / BYTES;
    this.forward += (units * footprint.forward) / BYTES;
  }

  /** A tensor of `elements` that is made in the forward and saved for the backward. */
  addSaved(elements: number): void {
    this.kept += elements;
    this.forward += elements;
  }

  /** `units` times the per-unit ledger `other`. */
  addScaled(units: number, other: Ledger): void {
    this.kept += units * other.kept;
    this.forward += units * other.forward;
  }
}
