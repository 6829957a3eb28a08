import * as tf from '@tensorflow/tfjs';
import { Rng, measureTape, memorySource, type MemorySource } from '@autodeeplab/core';
import { TrellisTopology, type Scale } from '@autodeeplab/genotype';
import { SearchASPP } from '@autodeeplab/heads';
import { ReLUConvBN, countOpParameters, createOp, getOpMeta, isPreActivated, isZeroOp } from '@autodeeplab/ops';
import {
  blockChannels,
  cellChannels,
  nodeSize,
  parseSearchSpaceConfig,
  stemChannels,
  type SearchSpaceConfig,
  type SearchSpaceConfigInput,
} from './config.js';
import { StemLayer } from './transition.js';
import { defaultReplayBudgetBytes } from './replay.js';

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
   * (`forward(x, {stacked: false})`) train-mode forward without checkpoints (tfjs frees every other
   * forward intermediate before the backward pass starts): what a supernet without gradient
   * checkpoints would hold. The peak of a forward + backward is higher (the gradients accumulate on
   * top of these); the default forward holds far less (see `trainingPeakBytes`).
   */
  activationBytes: number;
  /**
   * Estimated peak memory of one training step (forward + backward, gradients of every parameter)
   * of the default forward (stacked, one checkpoint per trellis node), on top of the weights and the
   * input: the parameters' gradients; the stem's and heads' tapes and the node outputs the
   * checkpoints keep, with their gradients; the convolution outputs the nodes keep for their
   * recomputation (`replayedOutputs` of the ops: the heavy ones, and the light ones in forward order
   * up to the replay budget); and the
   * largest node's recomputation — its tape and its
   * intermediates' gradients (tfjs keeps every gradient until the backward pass that made it ends,
   * for a checkpointed node its own), counted as the per-op tape of that node, which it measures
   * close to. Within 0.84–0.95 of the measured peak on the configs and sizes tried (README).
   */
  trainingPeakBytes: number;
  /** Which memory the probes measured (see `trackMemory` of @autodeeplab/core). */
  memorySource: MemorySource;
}

const BYTES = 4;
const PROBE = 16;

/** Per unit of a component: bytes its tape keeps for backward, and bytes its forward allocates. */
interface Footprint {
  kept: number;
  forward: number;
}

const NONE: Footprint = { kept: 0, forward: 0 };
const probeCache = new Map<string, Footprint>();
const macsCache = new Map<string, number>();

/**
 * The memory footprint per unit of a component, measured once (per backend) on a small input and
 * cached: the ops are registry plugins whose internals this package does not know, so their tape
 * and forward allocations are measured, then scaled by the element count (every tensor of a
 * stride-1 op has the size of its input or output, up to per-channel vectors). `kept` leaves out
 * the component's output (kept and counted by whatever consumes it); `forward` includes it (it
 * stands for the gradient of the input that the component's backward makes).
 */
let probing = true;

function probe(key: string, setup: () => { fn: (x: tf.Tensor) => tf.Tensor; input: tf.Tensor; units: number; dispose: () => void }): Footprint {
  if (!probing) return NONE;
  const cacheKey = `${tf.getBackend()}:${key}`;
  const cached = probeCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const { fn, input, units, dispose } = setup();
  try {
    let outputBytes = 0;
    const tape = measureTape((x) => {
      const y = fn(x);
      outputBytes = y.size * BYTES;
      return y;
    }, [input]);
    const footprint = { kept: (tape.keptBytes - outputBytes) / units, forward: tape.forwardBytes / units };
    probeCache.set(cacheKey, footprint);
    return footprint;
  } finally {
    input.dispose();
    dispose();
  }
}

const randomInput = (shape: [number, number, number, number], relu: boolean): tf.Tensor4D =>
  tf.tidy(() => {
    const x = tf.tensor4d(new Rng(1).normals(shape.reduce((a, b) => a * b, 1)), shape);
    return relu ? tf.relu(x) : x;
  });

/** Footprint per output element of op `name` applied (pre-activated when it can be) at `channels`. */
function opFootprint(name: string, channels: number, affine: boolean): Footprint {
  if (isZeroOp(name)) return NONE;
  return probe(`op:${name}:${channels}:${affine}`, () => {
    const op = createOp(name, { name: `__cost_probe__/${name}`, channels, stride: 1, affine, rng: new Rng(0) });
    const pre = isPreActivated(op);
    return {
      fn: (x) => (pre ? op.applyPreActivated!(x as tf.Tensor4D) : op.apply(x as tf.Tensor4D)),
      input: randomInput([1, PROBE, PROBE, channels], pre),
      units: PROBE * PROBE * channels,
      dispose: () => op.dispose(),
    };
  });
}

/** Footprint per output element of a trellis transition (pre-activated input; `up` includes the resize). */
function transitionFootprint(kind: 'down' | 'same' | 'up', inChannels: number, outChannels: number, affine: boolean): Footprint {
  return probe(`transition:${kind}:${inChannels}:${outChannels}:${affine}`, () => {
    const down = kind === 'down';
    const t = new ReLUConvBN('__cost_probe__/transition', { inChannels, outChannels, kernelSize: down ? 3 : 1, stride: down ? 2 : 1, affine, rng: new Rng(0) });
    const inSize = kind === 'up' ? PROBE / 2 : down ? 2 * PROBE : PROBE;
    return {
      fn: (x) => (kind === 'up' ? t.apply(tf.image.resizeBilinear(x as tf.Tensor4D, [PROBE, PROBE], false, true)) : t.applyPreActivated(x as tf.Tensor4D)),
      input: randomInput([1, inSize, inSize, inChannels], kind !== 'up'),
      units: PROBE * PROBE * outChannels,
      dispose: () => t.dispose(),
    };
  });
}

/** Footprint per output element of a stem layer. */
function stemFootprint(inChannels: number, outChannels: number): Footprint {
  return probe(`stem:${inChannels}:${outChannels}`, () => {
    const layer = new StemLayer('__cost_probe__/stem', { inChannels, outChannels, rng: new Rng(0) });
    return {
      fn: (x) => layer.apply(x as tf.Tensor4D),
      input: randomInput([1, 2 * PROBE, 2 * PROBE, inChannels], false),
      units: PROBE * PROBE * outChannels,
      dispose: () => layer.dispose(),
    };
  });
}

/** Footprint per input position of a search head (its logits included). */
function headFootprint(scale: Scale, inChannels: number, numClasses: number): Footprint {
  return probe(`head:${scale}:${inChannels}:${numClasses}`, () => {
    const head = new SearchASPP('__cost_probe__/head', { inChannels, scale, numClasses, rng: new Rng(0) });
    return {
      fn: (x) => head.apply(x as tf.Tensor4D),
      input: randomInput([1, PROBE, PROBE, inChannels], false),
      units: PROBE * PROBE,
      dispose: () => head.dispose(),
    };
  });
}

/** Conv multiply-adds per output pixel of a stride-1 op: every conv kernel entry is used once per pixel. */
function opMultiAddsPerPixel(name: string, channels: number, affine: boolean): number {
  if (isZeroOp(name)) return 0;
  const key = `${name}:${channels}:${affine}`;
  const cached = macsCache.get(key);
  if (cached !== undefined) return cached;
  const op = createOp(name, { name: `__cost_probe__/${name}`, channels, stride: 1, affine, rng: new Rng(0) });
  try {
    let macs = 0;
    for (const v of op.parameters()) if (v.rank === 4) macs += v.size;
    macsCache.set(key, macs);
    return macs;
  } finally {
    op.dispose();
  }
}

/**
 * Parameters, Multi-Adds and the activation memory of one training step of the supernet for a
 * config and input size, without building the supernet. Parameters and Multi-Adds are exact counts;
 * activation bytes add up the tensors the tape keeps for each part of the fused forward, with the
 * registry ops, transitions, stem layers and heads measured once on 16×16 inputs (so a backend must
 * be initialised) and scaled by their element counts.
 */
export function estimateCost(configInput: SearchSpaceConfigInput | SearchSpaceConfig, input: CostInput): CostEstimate {
  return walk(parseSearchSpaceConfig(configInput), input, true);
}

/** Trainable parameters of the supernet of a config (no backend needed, nothing built but one op per kind). */
export function countSupernetParameters(configInput: SearchSpaceConfigInput | SearchSpaceConfig): CostEstimate['parameters'] {
  return walk(parseSearchSpaceConfig(configInput), { height: 1, width: 1 }, false).parameters;
}

/** Conv Multi-Adds of one fused forward per image (no backend needed). */
export function countSupernetMultiAdds(configInput: SearchSpaceConfigInput | SearchSpaceConfig, input: Omit<CostInput, 'batch'>): number {
  return walk(parseSearchSpaceConfig(configInput), input, false).multiAddsPerImage;
}

function walk(config: SearchSpaceConfig, input: CostInput, measure: boolean): CostEstimate {
  const { layers, blocks, ops, numClasses, affine } = config;
  const batch = input.batch ?? 1;
  const { height, width } = input;
  const topology = new TrellisTopology(layers, config.scales as Scale[]);
  const edgesPerCell = (blocks * (blocks + 3)) / 2;
  const positions = (scale: number) => nodeSize(height, scale) * nodeSize(width, scale);
  const [c1, c2] = stemChannels(config);
  const inWidth = (layer: number, scale: Scale) => (layer === 0 ? c2 : cellChannels(config, scale));
  const nonZero = ops.filter((o) => !isZeroOp(o));
  const anyPreActivated = nonZero.some((o) => opKeptPreActivated(o));
  const replayBudget = measure ? (input.replayBudgetBytes ?? defaultReplayBudgetBytes()) / BYTES : 0;

  probing = measure;
  try {
    return count();
  } finally {
    probing = true;
  }

  function count(): CostEstimate {
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
    stem.addProbed(batch * p2 * c1, stemFootprint(3, c1));
    stem.addProbed(batch * positions(4) * c2, stemFootprint(c1, c2));
    stem.addSaved(batch * positions(4) * c2); // the stem output, saved by its ReLU

    for (let layer = 1; layer <= layers; layer++) {
      for (const scale of topology.scalesAt(layer)) {
        const f = blockChannels(config, scale);
        const elems = batch * positions(scale) * f;
        const incoming = topology.incoming(layer, scale);
        const hasPrevPrev = topology.nodeExists(layer - 2, scale);
        const node = new Ledger();
        // A ReLU saves its input: each cell input once (shared by its edges' ops).
        const relu = anyPreActivated ? elems : 0;
        for (const e of incoming) {
          const cin = inWidth(e.layer, e.from);
          const k = e.direction === 'down' ? 3 : 1;
          params += k * k * cin * f + (affine ? 2 * f : 0);
          macs += positions(scale) * k * k * cin * f;
          node.addProbed(elems, transitionFootprint(e.direction, cin, f, affine));
          node.addSaved(relu);
        }
        if (hasPrevPrev) {
          const cin = inWidth(layer - 2, scale);
          params += cin * f + (affine ? 2 * f : 0);
          macs += positions(scale) * cin * f;
          node.addProbed(elems, transitionFootprint('same', cin, f, affine));
          node.addSaved(relu);
        }
        // Cell: ops of every edge; prev_prev edges once per node when prev_prev exists.
        let opParams = 0;
        let opMacs = 0;
        const opSum = new Ledger();
        for (const name of ops) {
          opParams += countOpParameters(name, { channels: f, stride: 1, affine });
          opMacs += opMultiAddsPerPixel(name, f, affine);
          if (isZeroOp(name)) continue;
          // Its own saves, plus its output saved by the block's weighted sum.
          opSum.addProbed(1, opFootprint(name, f, affine));
          opSum.addSaved(1);
        }
        params += edgesPerCell * opParams;
        const calls = incoming.length;
        const edgeRuns = hasPrevPrev ? blocks + calls * (edgesPerCell - blocks) : calls * edgesPerCell;
        macs += edgeRuns * positions(scale) * opMacs;
        node.addScaled(edgeRuns * elems, opSum);
        // Convolution outputs a checkpointed node keeps from its forward pass until its backward.
        const replayed = (kind: 'heavy' | 'light') => edgeRuns * elems * ops.reduce((sum, name) => sum + (getOpMeta(name).replayedOutputs?.[kind] ?? 0), 0);
        heavyReplays += replayed('heavy');
        lightReplays = Math.min(replayBudget, lightReplays + replayed('light'));
        nodeReplays = heavyReplays + lightReplays;
        // Per call: the ReLUs of blocks 1..B−1 (read by later blocks) save the blocks; the concat saves
        // all blocks; the β-weighted sum saves the concatenation.
        node.addSaved(calls * elems * ((anyPreActivated ? blocks - 1 : 0) + (blocks > 1 ? 2 * blocks : blocks)));
        nodeTapes += node.kept;
        largestRecompute = Math.max(largestRecompute, nodeReplays + node.kept);
        // The node output, saved by the next layer's ReLU (or by the head's convs, counted in its probe).
        if (layer < layers) nodeOutputs += blocks * elems;
      }
    }

    const lastScales = topology.scalesAt(layers);
    for (const scale of lastScales) {
      const spec = { inChannels: cellChannels(config, scale), scale, numClasses };
      params += SearchASPP.parameterCount(spec);
      macs += SearchASPP.multiAdds(spec, nodeSize(height, scale), nodeSize(width, scale));
      // Its own saves, then its logits saved by the upsampling, the upsampled logits by the sum over heads.
      heads.addProbed(batch * positions(scale), headFootprint(scale, spec.inChannels, numClasses));
      heads.addSaved(batch * positions(scale) * numClasses);
      if (lastScales.length > 1) heads.addSaved(batch * height * width * numClasses);
    }
    heads.addSaved(batch * height * width * numClasses); // the logits, kept by the loss

    const arch = edgesPerCell * ops.length + topology.betaSize;
    // The checkpointed step: every gradient of the parameters, the stem's and heads' tapes, the node
    // outputs kept by the checkpoints and their gradients, the heads' gradients (made first), then
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
      memorySource: measure ? memorySource() : 'tensor-bytes',
    };
  }
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

/** Whether op `name` takes a shared ReLU (probed once on a 1-channel instance). */
function opKeptPreActivated(name: string): boolean {
  const key = `pre:${name}`;
  const cached = macsCache.get(key);
  if (cached !== undefined) return cached === 1;
  const op = createOp(name, { name: `__cost_probe__/${name}`, channels: 1, stride: 1, affine: false, rng: new Rng(0) });
  const pre = isPreActivated(op);
  op.dispose();
  macsCache.set(key, pre ? 1 : 0);
  return pre;
}
