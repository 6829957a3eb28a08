import * as tf from '@tensorflow/tfjs';
import { Module, Rng, UserInputError, resizeBilinear } from '@autodeeplab/core';
import { cellEdges, type Scale, type TrellisEdge, type TrellisTopology } from '@autodeeplab/genotype';
import { SearchASPP } from '@autodeeplab/heads';
import { ReLUConvBN } from '@autodeeplab/ops';
import { SearchCell, type EdgeWeights } from './cell.js';
import { nodeSize, parseSearchSpaceConfig, type SearchSpaceConfig, type SearchSpaceConfigInput } from './config.js';
import { planTrellis } from './plan.js';
import { StemLayer } from './stem.js';
import { chooseFastPath, createTrellisExecutor, type FastPath } from './fast/create.js';
import type { SupernetParts, TrellisExecutor } from './fast/types.js';

// The structure walk lives in plan.ts; re-exported here, where the cost estimate has always imported it.
export { planTrellis, type PrevPrevSource, type TrellisNode, type TrellisPlan } from './plan.js';

export interface SupernetOptions {
  /** Module name, the prefix of every variable name (default 'supernet'). */
  name?: string;
  /** Seed of the initialisation (default 0). */
  seed?: number;
  /**
   * Use a fast forward (default true): the stacked one when the config's BN is non-affine (the
   * search convention), else the fused one (see `fast/`). `false` selects the plain forward.
   */
  fused?: boolean;
  /**
   * Stacked forward only: wrap every trellis node in `recomputeInBackward` (default true): the
   * backward pass recomputes each node's forward instead of keeping its intermediates (exact; about
   * one more forward of time, a small fraction of the memory).
   */
  recompute?: boolean;
  /**
   * Recomputed stacked forward under a gradient tape: bytes of light convolutions' outputs (the sep
   * convs' depthwise and 1×1 convs) the nodes may keep from the forward pass so that their
   * recomputation replays them instead of convolving again (exact; see `ConvReplay`; the atrous
   * convs' outputs are always kept). Default `defaultReplayBudgetBytes()` of the backend at the
   * call: 1 GB on wasm (its heap is at most 4 GiB), unlimited elsewhere; 0 recomputes them all.
   */
  replayBudgetBytes?: number;
}

export interface ForwardOptions {
  /** Overrides the supernet's `fused` option for this call. */
  fused?: boolean;
  /** With `fused`: `false` selects the fused forward instead of the stacked one (default true; always false for affine configs). */
  stacked?: boolean;
  /** Overrides the supernet's `recompute` option for this call. */
  recompute?: boolean;
  /** Overrides the supernet's `replayBudgetBytes` option for this call. */
  replayBudgetBytes?: number;
  /**
   * The variables the caller will differentiate (the list given to `tf.variableGrads`; default: all).
   * Recomputed nodes then compute only these variables' gradients in the backward pass: an
   * architecture step (α, β) skips every weight gradient of the cells.
   */
  gradientTargets?: readonly tf.Variable[];
}

/** How a worker process rebuilds a model: `new (await import(module))[export](...args)`, args structured-cloneable. */
export interface ReplicaDescriptor {
  module: string;
  export: string;
  args: unknown[];
}

const nodeKey = (layer: number, scale: Scale) => `${layer}/${scale}`;

/**
 * The Auto-DeepLab search supernet (paper §3, §4.1): a stem reducing by 4, the trellis of search
 * cells over L layers × the scales, and a 3-branch ASPP head on every node of the last layer whose
 * logits are upsampled to the input size and summed.
 *
 * Node (l, s) of layers 1..L is `Σ_{edges (l−1, r) → (l, s)} β̂_edge · Cell_(l,s)(T_edge(H^{l−1}_r), P(H^{l−2}_s))`
 * (paper eq. 6) where β̂ is β normalised over each source node's outgoing edges, T_edge is
 * ReLU-conv3×3(stride 2)-BN from s/2, ReLU-1×1-BN from s, bilinear upsampling then ReLU-1×1-BN from
 * 2s (all to the block width F·s/4), and P is ReLU-1×1-BN. When node (l−2, s) does not exist (layer 1,
 * and a scale's first two layers) the config's `missingPrevPrev` decides: `drop` (default, as the
 * public PyTorch reference) builds that cell without prev_prev edges, `substitute` uses the call's
 * projected prev input as prev_prev too. Layer 0 is the stem output. `forward(x, {fused: false})` computes exactly this; the default runs a
 * faster equal strategy of `fast/`.
 */
export class Supernet extends Module implements SupernetParts {
  readonly config: SearchSpaceConfig;
  readonly topology: TrellisTopology;
  readonly alpha: tf.Variable;
  readonly beta: tf.Variable;
  readonly fused: boolean;
  readonly recompute: boolean;
  /** undefined: the backend's default at each forward. */
  readonly replayBudgetBytes: number | undefined;
  private readonly stem: [StemLayer, StemLayer];
  private readonly cells = new Map<string, SearchCell>();
  private readonly transitions = new Map<number, ReLUConvBN>();
  private readonly prevPrev = new Map<string, ReLUConvBN>();
  private readonly heads = new Map<Scale, SearchASPP>();
  private readonly executors = new Map<FastPath, TrellisExecutor>();

  constructor(config: SearchSpaceConfigInput | SearchSpaceConfig = {}, options: SupernetOptions = {}) {
    super(options.name ?? 'supernet');
    this.config = parseSearchSpaceConfig(config);
    this.fused = options.fused ?? true;
    this.recompute = options.recompute ?? true;
    this.replayBudgetBytes = options.replayBudgetBytes;
    const { blocks, ops, numClasses, affine } = this.config;
    const plan = planTrellis(this.config);
    this.topology = plan.topology;
    const rng = new Rng(options.seed ?? 0);
    const edgeCount = cellEdges(blocks).length;
    this.alpha = this.addParameter('alpha', () => tf.tensor2d(rng.normals(edgeCount * ops.length, 1e-3), [edgeCount, ops.length]), 'arch');
    this.beta = this.addParameter('beta', () => tf.tensor1d(rng.normals(this.topology.betaSize, 1e-3)), 'arch');

    const [c1, c2] = plan.stem;
    this.stem = [
      this.addChild('stem0', (n) => new StemLayer(n, { inChannels: 3, outChannels: c1, rng })),
      this.addChild('stem1', (n) => new StemLayer(n, { inChannels: c1, outChannels: c2, rng })),
    ];
    for (const { layer, scale, channels: f, incoming, prevPrevChannels, prevPrevSource } of plan.nodes) {
      for (const { edge: e, inChannels } of incoming) {
        const down = e.direction === 'down';
        const spec = { inChannels, outChannels: f, kernelSize: down ? 3 : 1, stride: down ? 2 : 1, affine, rng } as const;
        this.transitions.set(
          e.index,
          this.addChild(`edge_l${e.layer}_s${e.from}_to_s${e.to}`, (n) => new ReLUConvBN(n, spec)),
        );
      }
      if (prevPrevChannels !== undefined) {
        const spec = { inChannels: prevPrevChannels, outChannels: f, kernelSize: 1, stride: 1, affine, rng } as const;
        this.prevPrev.set(
          nodeKey(layer, scale),
          this.addChild(`prev_prev_l${layer}_s${scale}`, (n) => new ReLUConvBN(n, spec)),
        );
      }
      const cellSpec = { blocks, channels: f, ops, affine, rng, prevPrev: prevPrevSource !== 'none' };
      const cell = this.addChild(`cell_l${layer}_s${scale}`, (n) => new SearchCell(n, cellSpec));
      this.cells.set(nodeKey(layer, scale), cell);
    }
    for (const { scale, inChannels } of plan.heads) {
      this.heads.set(
        scale,
        this.addChild(`head_s${scale}`, (n) => new SearchASPP(n, { inChannels, scale, numClasses, rng })),
      );
    }
  }

  /** [α, β], the architecture parameters. */
  archParameters(): tf.Variable[] {
    return [this.alpha, this.beta];
  }

  /** Every other trainable parameter. */
  weightParameters(): tf.Variable[] {
    return this.parameters('weight');
  }

  /** softmax(α) over the ops of each edge, [edges, ops]. */
  normalizedAlpha(): tf.Tensor2D {
    return tf.softmax(this.alpha as tf.Tensor2D, 1);
  }

  /** β normalised over each node's outgoing edges (paper eq. 7–8), [betaSize]. */
  normalizedBeta(): tf.Tensor1D {
    return this.topology.normalizeBeta(this.beta as tf.Tensor1D);
  }

  applyStem(x: tf.Tensor4D): tf.Tensor4D {
    return this.stem[1].apply(this.stem[0].apply(x));
  }

  cell(layer: number, scale: Scale): SearchCell {
    const cell = this.cells.get(nodeKey(layer, scale));
    if (!cell) throw new Error(`${this.name}: no node (${layer}, ${scale})`);
    return cell;
  }

  transition(edge: TrellisEdge): ReLUConvBN {
    return this.transitions.get(edge.index)!;
  }

  prevPrevProjection(layer: number, scale: Scale): ReLUConvBN | undefined {
    return this.prevPrev.get(nodeKey(layer, scale));
  }

  /** Logits [N, H, W, numClasses] at the input's size. In train mode BN uses batch statistics. */
  forward(x: tf.Tensor4D, options: ForwardOptions = {}): tf.Tensor4D {
    return tf.tidy(() => {
      const nodes = this.lastLayer(x, options);
      const [, height, width] = x.shape;
      const logits = [...this.heads].map(([scale, head]) => resizeBilinear(head.apply(nodes.get(scale)!), height, width));
      return logits.length === 1 ? logits[0]! : (tf.addN(logits) as tf.Tensor4D);
    });
  }

  /**
   * The outputs of the last layer's nodes (what the heads read), by scale, computed as `forward`
   * would with these options. Its intermediates are not freed: call it inside `tf.tidy`.
   */
  lastLayer(x: tf.Tensor4D, options: ForwardOptions = {}): Map<Scale, tf.Tensor4D> {
    if (x.rank !== 4 || x.shape[3] !== 3) {
      throw new UserInputError(`Supernet.forward: expected an NHWC tensor with 3 channels, found shape [${x.shape}]`);
    }
    if (!(options.fused ?? this.fused)) return this.trellis(x);
    return this.executor(chooseFastPath(this.config.affine, options.stacked)).run(this, x, {
      recompute: options.recompute ?? this.recompute,
      replayBudgetBytes: options.replayBudgetBytes ?? this.replayBudgetBytes,
      gradientTargets: options.gradientTargets,
    });
  }

  /** The plain trellis (the paper's node update as written): every cell call on its own, every op with its own ReLU. */
  private trellis(x: tf.Tensor4D): Map<Scale, tf.Tensor4D> {
    const [, height, width] = x.shape;
    const alpha: EdgeWeights = tf.unstack(this.normalizedAlpha()).map((row) => tf.unstack(row) as tf.Scalar[]);
    const beta = tf.unstack(this.normalizedBeta()) as tf.Scalar[];
    const history: Map<Scale, tf.Tensor4D>[] = [new Map([[4 as Scale, this.applyStem(x)]])];
    for (let layer = 1; layer <= this.config.layers; layer++) {
      const previous = history[layer - 1]!;
      const current = new Map<Scale, tf.Tensor4D>();
      for (const scale of this.topology.scalesAt(layer)) {
        const [h, w] = [nodeSize(height, scale), nodeSize(width, scale)];
        const pp = this.prevPrevProjection(layer, scale);
        const cell = this.cell(layer, scale);
        let node: tf.Tensor4D | undefined;
        for (const e of this.topology.incoming(layer, scale)) {
          const source = previous.get(e.from)!;
          const prev = this.transition(e).apply(e.direction === 'up' ? resizeBilinear(source, h, w) : source);
          // No node (l − 2, s): the call's prev substitutes, unless the cell has no prev_prev edges (dropped).
          const prevPrev = pp ? pp.apply(history[layer - 2]!.get(scale)!) : cell.hasPrevPrev ? prev : undefined;
          const term = tf.mul(beta[e.index]!, cell.apply(prev, prevPrev, alpha)) as tf.Tensor4D;
          node = node ? (tf.add(node, term) as tf.Tensor4D) : term;
        }
        current.set(scale, node!);
      }
      history.push(current);
    }
    return history[this.config.layers]!;
  }

  private executor(path: FastPath): TrellisExecutor {
    let found = this.executors.get(path);
    if (!found) {
      found = createTrellisExecutor(path);
      this.executors.set(path, found);
    }
    return found;
  }

  /**
   * How a worker rebuilds this supernet: the config and every option that changes what a step
   * computes or holds (not the seed: a replica's weights come from the main copy).
   */
  replica(): ReplicaDescriptor {
    const options: SupernetOptions = { name: this.name, fused: this.fused, recompute: this.recompute, replayBudgetBytes: this.replayBudgetBytes };
    return { module: '@autodeeplab/search-space', export: 'Supernet', args: [this.config, options] };
  }

  override dispose(): void {
    for (const executor of this.executors.values()) executor.dispose();
    this.executors.clear();
    super.dispose();
  }
}
