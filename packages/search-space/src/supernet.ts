import * as tf from '@tensorflow/tfjs';
import { Module, Rng, UserInputError, recomputeInBackward, resizeBilinear } from '@autodeeplab/core';
import { TrellisTopology, type Scale, type TrellisEdge } from '@autodeeplab/genotype';
import { SearchASPP } from '@autodeeplab/heads';
import { ReLUConvBN, batchNormalize, concatSliceGrad, type StackInput } from '@autodeeplab/ops';
import { Activation } from './activation.js';
import { SearchCell, type CellCall, type EdgeWeights } from './cell.js';
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
import { AlphaColumns, StackedTensor, applyStackedCell } from './stacked-cell.js';
import { ConvReplay, ReplayBudget, activeTape, defaultReplayBudgetBytes, recordingGradients } from './replay.js';

export interface SupernetOptions {
  /** Module name, the prefix of every variable name (default 'supernet'). */
  name?: string;
  /** Seed of the initialisation (default 0). */
  seed?: number;
  /**
   * Use the fast forward (default true): the stacked forward when the config's BN is non-affine (the
   * search convention), else the fused one. `false` selects the plain reference forward.
   */
  fused?: boolean;
  /**
   * Stacked forward only: checkpoint every trellis node (default true): the backward pass recomputes
   * each node's forward instead of keeping its intermediates (exact; about one more forward of time,
   * a small fraction of the memory).
   */
  checkpoint?: boolean;
  /**
   * Checkpointed stacked forward under a gradient tape: bytes of light convolutions' outputs (the
   * sep convs' depthwise and 1×1 convs) the nodes may keep from the forward pass so that their
   * recomputation replays them instead of convolving again (exact; see `ConvReplay`; the atrous
   * convs' outputs are always kept). Default `defaultReplayBudgetBytes()` of the backend at the
   * call: 1 GB on wasm (its heap is at most 4 GiB), unlimited elsewhere; 0 recomputes them all.
   */
  replayBudgetBytes?: number;
}

export interface ForwardOptions {
  /** Overrides the supernet's `fused` option for this call. */
  fused?: boolean;
  /**
   * With `fused`: `false` selects the per-op fused forward (shared ReLU, zero ops skipped, module
   * BNs) instead of the stacked one (default true; always false for affine configs).
   */
  stacked?: boolean;
  /** Overrides the supernet's `checkpoint` option for this call. */
  checkpoint?: boolean;
  /** Overrides the supernet's `replayBudgetBytes` option for this call. */
  replayBudgetBytes?: number;
  /**
   * The variables the caller will differentiate (the list given to `tf.variableGrads`; default: all).
   * Checkpointed nodes then compute only these variables' gradients when they recompute their
   * forward in the backward pass: an architecture step (α, β) skips every weight gradient of the cells.
   */
  gradientTargets?: readonly tf.Variable[];
}

/** Local module names of the trellis parts. */
const cellName = (layer: number, scale: Scale) => `cell_l${layer}_s${scale}`;
const transitionName = (e: TrellisEdge) => `edge_l${e.layer}_s${e.from}_to_s${e.to}`;
const prevPrevName = (layer: number, scale: Scale) => `prev_prev_l${layer}_s${scale}`;

/**
 * The Auto-DeepLab search supernet (SPEC §1–2): a stem reducing by 4, the trellis of search cells over
 * L layers × the scales, and a 3-branch ASPP head on every node of the last layer whose logits are
 * upsampled to the input size and summed.
 *
 * Node (l, s) of layers 1..L is `Σ_{edges (l−1, r) → (l, s)} β̂_edge · Cell_(l,s)(T_edge(H^{l−1}_r), P(H^{l−2}_s))`
 * where β̂ is β normalised over each source node's outgoing edges, T_edge is ReLU-conv3×3(stride 2)-BN
 * from s/2, ReLU-1×1-BN from s, bilinear upsampling then ReLU-1×1-BN from 2s (all to the block width
 * F·s/4), and P is ReLU-1×1-BN. When node (l−2, s) does not exist (layer 1, and a scale's first two
 * layers) the cell uses its projected prev input as prev_prev too (choice). Layer 0 is the stem output.
 */
export class Supernet extends Module {
  readonly config: SearchSpaceConfig;
  readonly topology: TrellisTopology;
  readonly alpha: tf.Variable;
  readonly beta: tf.Variable;
  readonly fused: boolean;
  readonly checkpoint: boolean;
  /** undefined: the backend's default at each forward. */
  readonly replayBudgetBytes: number | undefined;
  private readonly stem: [StemLayer, StemLayer];
  private readonly cells = new Map<string, SearchCell>();
  private readonly transitions = new Map<number, ReLUConvBN>();
  private readonly prevPrev = new Map<string, ReLUConvBN>();
  private readonly heads = new Map<Scale, SearchASPP>();
  /**
   * The replays of stacked forwards and the tapes they were recorded on: each is freed by its node's
   * backward; leftovers (a backward that never ran or never reached a node) by the next forward
   * outside that tape.
   */
  private pendingReplays: { replay: ConvReplay; tape: unknown }[] = [];

  constructor(config: SearchSpaceConfigInput | SearchSpaceConfig = {}, options: SupernetOptions = {}) {
    super(options.name ?? 'supernet');
    this.config = parseSearchSpaceConfig(config);
    this.fused = options.fused ?? true;
    this.checkpoint = options.checkpoint ?? true;
    this.replayBudgetBytes = options.replayBudgetBytes;
    const { layers, blocks, ops, scales, numClasses, affine } = this.config;
    this.topology = new TrellisTopology(layers, scales as Scale[]);
    const rng = new Rng(options.seed ?? 0);
    const edgeCount = blocks * (blocks + 3) / 2;
    this.alpha = this.addParameter('alpha', () => tf.tensor2d(rng.normals(edgeCount * ops.length, 1e-3), [edgeCount, ops.length]), 'arch');
    this.beta = this.addParameter('beta', () => tf.tensor1d(rng.normals(this.topology.betaSize, 1e-3)), 'arch');

    const [c1, c2] = stemChannels(this.config);
    this.stem = [
      this.addChild('stem0', (n) => new StemLayer(n, { inChannels: 3, outChannels: c1, rng })),
      this.addChild('stem1', (n) => new StemLayer(n, { inChannels: c1, outChannels: c2, rng })),
    ];
    const width = (layer: number, scale: Scale) => (layer === 0 ? c2 : cellChannels(this.config, scale));

    for (let layer = 1; layer <= layers; layer++) {
      for (const scale of this.topology.scalesAt(layer)) {
        const f = blockChannels(this.config, scale);
        for (const e of this.topology.incoming(layer, scale)) {
          const down = e.direction === 'down';
          this.transitions.set(
            e.index,
            this.addChild(transitionName(e), (n) =>
              new ReLUConvBN(n, { inChannels: width(e.layer, e.from), outChannels: f, kernelSize: down ? 3 : 1, stride: down ? 2 : 1, affine, rng }),
            ),
          );
        }
        if (this.topology.nodeExists(layer - 2, scale)) {
          this.prevPrev.set(
            `${layer}/${scale}`,
            this.addChild(prevPrevName(layer, scale), (n) =>
              new ReLUConvBN(n, { inChannels: width(layer - 2, scale), outChannels: f, kernelSize: 1, stride: 1, affine, rng }),
            ),
          );
        }
        this.cells.set(
          `${layer}/${scale}`,
          this.addChild(cellName(layer, scale), (n) => new SearchCell(n, { blocks, channels: f, ops, affine, rng })),
        );
      }
    }
    for (const scale of this.topology.scalesAt(layers)) {
      this.heads.set(
        scale,
        this.addChild(`head_s${scale}`, (n) => new SearchASPP(n, { inChannels: cellChannels(this.config, scale), scale, numClasses, rng })),
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

  /** β normalised over each node's outgoing edges (paper Eq. 7–8), [betaSize]. */
  normalizedBeta(): tf.Tensor1D {
    return this.topology.normalizeBeta(this.beta as tf.Tensor1D);
  }

  /** Logits [N, H, W, numClasses] at the input's size. In train mode BN uses batch statistics. */
  forward(x: tf.Tensor4D, options: ForwardOptions = {}): tf.Tensor4D {
    if (x.rank !== 4 || x.shape[3] !== 3) {
      throw new UserInputError(`Supernet.forward: expected an NHWC tensor with 3 channels, found shape [${x.shape}]`);
    }
    const fused = options.fused ?? this.fused;
    return tf.tidy(() => {
      const alphaWeights: EdgeWeights = tf.unstack(this.normalizedAlpha()).map((row) => tf.unstack(row) as tf.Scalar[]);
      const betaWeights = tf.unstack(this.normalizedBeta()) as tf.Scalar[];
      const nodes = !fused
        ? this.trellisPlain(x, alphaWeights, betaWeights)
        : this.config.affine || options.stacked === false
          ? this.trellisFused(x, alphaWeights, betaWeights)
          : this.trellisStacked(x, betaWeights, {
              checkpointed: options.checkpoint ?? this.checkpoint,
              replayBudget: new ReplayBudget(options.replayBudgetBytes ?? this.replayBudgetBytes ?? defaultReplayBudgetBytes()),
              gradientTargets: options.gradientTargets,
            });
      const [, height, width] = x.shape;
      const logits = this.topology
        .scalesAt(this.config.layers)
        .map((scale) => resizeBilinear(this.heads.get(scale)!.apply(nodes.get(scale)!), height, width));
      return logits.length === 1 ? logits[0]! : (tf.addN(logits) as tf.Tensor4D);
    });
  }

  /**
   * The stacked trellis: per node, the calls' transitions normalised as one grouped batch, the cell run
   * once on the calls stacked along the batch axis, edges reading one tensor stacked (applyStackedCell).
   * BN of cells, transitions and projections always uses batch statistics here (train or eval mode);
   * their running statistics are not updated.
   */
  private trellisStacked(
    x: tf.Tensor4D,
    beta: tf.Scalar[],
    { checkpointed, replayBudget, gradientTargets }: { checkpointed: boolean; replayBudget: ReplayBudget; gradientTargets: readonly tf.Variable[] | undefined },
  ): Map<Scale, tf.Tensor4D> {
    const [, height, width] = x.shape;
    // Outputs kept by forwards of other (finished) tapes whose backward never reached them.
    this.releaseReplays(activeTape());
    const targets = gradientTargets ? new Set(gradientTargets) : undefined;
    const wanted = (v: tf.Variable) => targets === undefined || targets.has(v);
    const alphaHat = this.normalizedAlpha();
    const history: Map<Scale, tf.Tensor4D>[] = [new Map([[4 as Scale, this.stem[1].apply(this.stem[0].apply(x))]])];
    for (let layer = 1; layer <= this.config.layers; layer++) {
      const previous = history[layer - 1]!;
      const current = new Map<Scale, tf.Tensor4D>();
      for (const scale of this.topology.scalesAt(layer)) {
        const incoming = this.topology.incoming(layer, scale);
        const pp = this.prevPrev.get(`${layer}/${scale}`);
        // Inputs: the calls' sources, the prev_prev source (if any), softmax(α), the calls' β̂.
        const inputs: tf.Tensor[] = [...incoming.map((e) => previous.get(e.from)!), ...(pp ? [history[layer - 2]!.get(scale)!] : []), alphaHat, ...incoming.map((e) => beta[e.index]!)];
        const cellParameters = this.cells.get(`${layer}/${scale}`)!.parameters();
        // A checkpointed node under a gradient tape keeps its convs' outputs for the recomputation.
        const replay = checkpointed && recordingGradients() ? new ConvReplay(cellParameters.some(wanted), replayBudget) : undefined;
        if (replay) this.pendingReplays.push({ replay, tape: activeTape() });
        const node = (xs: readonly tf.Tensor[]) => this.stackedNode(layer, scale, height, width, xs, wanted(this.alpha), replay?.convolve);
        if (!checkpointed) {
          current.set(scale, node(inputs));
          continue;
        }
        const variables = [
          ...incoming.flatMap((e) => this.transitions.get(e.index)!.parameters()),
          ...(pp ? pp.parameters() : []),
          ...cellParameters,
        ].filter(wanted);
        // softmax(α) and the β̂ are inputs: constants when α or β is not differentiated.
        const alphaIndex = incoming.length + (pp ? 1 : 0);
        const constants = new Set<number>();
        if (!wanted(this.alpha)) constants.add(alphaIndex);
        if (!wanted(this.beta)) incoming.forEach((_, i) => constants.add(alphaIndex + 1 + i));
        const hooks = replay && { before: () => replay.replay(), after: () => replay.dispose() };
        current.set(scale, recomputeInBackward(node, inputs, variables, constants, hooks) as tf.Tensor4D);
      }
      history.push(current);
    }
    return history[this.config.layers]!;
  }

  /**
   * One node of the stacked trellis from `xs` = [the calls' source nodes…, prev_prev source?,
   * softmax(α), the calls' β̂…] (see trellisStacked).
   */
  private stackedNode(
    layer: number,
    scale: Scale,
    height: number,
    width: number,
    xs: readonly tf.Tensor[],
    alphaDifferentiated: boolean,
    convolve: StackInput['convolve'],
  ): tf.Tensor4D {
    const [h, w] = [nodeSize(height, scale), nodeSize(width, scale)];
    const incoming = this.topology.incoming(layer, scale);
    const k = incoming.length;
    const pp = this.prevPrev.get(`${layer}/${scale}`);
    const sources = xs.slice(0, k) as tf.Tensor4D[];
    const ppSource = pp ? (xs[k] as tf.Tensor4D) : undefined;
    const alpha = new AlphaColumns(xs[k + (pp ? 1 : 0)] as tf.Tensor2D, alphaDifferentiated);
    const weights = xs.slice(k + (pp ? 2 : 1)) as tf.Scalar[];
    // Transitions: each call's conv, then one BN over the calls stacked on the batch axis, per group.
    const convs = incoming.map((e, i) => {
      const t = this.transitions.get(e.index)!;
      return t.conv.apply(tf.relu(e.direction === 'up' ? resizeBilinear(sources[i]!, h, w) : sources[i]!));
    });
    const prev = new StackedTensor(this.normalizeAs(this.transitions.get(incoming[0]!.index)!, concatSliceGrad(convs, 0), k), k, convolve);
    const prevPrev = pp && ppSource ? new StackedTensor(this.normalizeAs(pp, pp.conv.apply(tf.relu(ppSource)), 1), 1, convolve) : undefined;
    const cells = applyStackedCell(this.cells.get(`${layer}/${scale}`)!, { prev, prevPrev }, alpha);
    return combineCalls(cells, weights);
  }

  /** Frees the kept outputs of every replay not recorded on `keepTape` (all with null). */
  private releaseReplays(keepTape: unknown): void {
    this.pendingReplays = this.pendingReplays.filter(({ replay, tape }) => {
      if (keepTape !== null && tape === keepTape) return true;
      replay.dispose();
      return false;
    });
  }

  override dispose(): void {
    this.releaseReplays(null);
    super.dispose();
  }

  /** Batch-statistics BN with the epsilon of `module`'s (non-affine) BN. */
  private normalizeAs(module: ReLUConvBN, x: tf.Tensor4D, groups: number): tf.Tensor4D {
    return batchNormalize(x, { groups, epsilon: module.bn.epsilon });
  }

  /** The fused trellis: each node's ReLU computed once, prev_prev projected and its ops run once per node. */
  private trellisFused(x: tf.Tensor4D, alpha: EdgeWeights, beta: tf.Scalar[]): Map<Scale, tf.Tensor4D> {
    const [, height, width] = x.shape;
    const history: Map<Scale, Activation>[] = [new Map([[4 as Scale, new Activation(this.stem[1].apply(this.stem[0].apply(x)))]])];
    for (let layer = 1; layer <= this.config.layers; layer++) {
      const previous = history[layer - 1]!;
      const current = new Map<Scale, Activation>();
      for (const scale of this.topology.scalesAt(layer)) {
        const size: [number, number] = [nodeSize(height, scale), nodeSize(width, scale)];
        const calls: CellCall[] = this.topology.incoming(layer, scale).map((e) => ({
          prev: new Activation(this.transitionFused(e, previous.get(e.from)!, size)),
          weight: beta[e.index]!,
        }));
        const pp = this.prevPrev.get(`${layer}/${scale}`);
        const prevPrev = pp ? new Activation(pp.applyPreActivated(history[layer - 2]!.get(scale)!.relu)) : undefined;
        current.set(scale, new Activation(this.cells.get(`${layer}/${scale}`)!.applyCalls(calls, prevPrev, alpha)));
      }
      history.push(current);
    }
    return new Map([...history[this.config.layers]!].map(([s, a]) => [s, a.x]));
  }

  private transitionFused(e: TrellisEdge, source: Activation, [h, w]: [number, number]): tf.Tensor4D {
    const t = this.transitions.get(e.index)!;
    if (e.direction === 'up') return t.apply(resizeBilinear(source.x, h, w));
    return t.applyPreActivated(source.relu);
  }

  /** The plain reference trellis: every cell call computed on its own, every op with its own ReLU. */
  private trellisPlain(x: tf.Tensor4D, alpha: EdgeWeights, beta: tf.Scalar[]): Map<Scale, tf.Tensor4D> {
    const [, height, width] = x.shape;
    const history: Map<Scale, tf.Tensor4D>[] = [new Map([[4 as Scale, this.stem[1].apply(this.stem[0].apply(x))]])];
    for (let layer = 1; layer <= this.config.layers; layer++) {
      const previous = history[layer - 1]!;
      const current = new Map<Scale, tf.Tensor4D>();
      for (const scale of this.topology.scalesAt(layer)) {
        const [h, w] = [nodeSize(height, scale), nodeSize(width, scale)];
        const cell = this.cells.get(`${layer}/${scale}`)!;
        const pp = this.prevPrev.get(`${layer}/${scale}`);
        let node: tf.Tensor4D | undefined;
        for (const e of this.topology.incoming(layer, scale)) {
          const source = previous.get(e.from)!;
          const t = this.transitions.get(e.index)!;
          const prev = t.apply(e.direction === 'up' ? resizeBilinear(source, h, w) : source);
          const prevPrev = pp ? pp.apply(history[layer - 2]!.get(scale)!) : prev;
          const term = tf.mul(beta[e.index]!, cell.apply(prev, prevPrev, alpha)) as tf.Tensor4D;
          node = node ? (tf.add(node, term) as tf.Tensor4D) : term;
        }
        current.set(scale, node!);
      }
      history.push(current);
    }
    return history[this.config.layers]!;
  }
}

/** Σ_g β_g · cells[g] over the G groups of a [G·N, …] batch (one call of the cell per group). */
function combineCalls(cells: tf.Tensor4D, weights: tf.Scalar[]): tf.Tensor4D {
  if (weights.length === 1) return tf.mul(cells, weights[0]!);
  const [b, h, w, c] = cells.shape;
  const groups = weights.length;
  const n = b / groups;
  const weighted = tf.mul(tf.reshape(cells, [groups, n * h * w * c]), tf.reshape(tf.stack(weights), [groups, 1]));
  return tf.reshape(tf.sum(weighted, 0), [n, h, w, c]);
}
