import * as tf from '@tensorflow/tfjs';
import { activeTape, recomputeInBackward, recordingGradients, resizeBilinear } from '@autodeeplab/core';
import type { Scale } from '@autodeeplab/genotype';
import { Activation, batchNormalize, concatSliceGrad, type ReLUConvBN, type StackInput } from '@autodeeplab/ops';
import { nodeSize } from '../config.js';
import { ConvReplay, ReplayBudget, defaultReplayBudgetBytes } from './replay.js';
import { AlphaColumns, applyStackedCell } from './stacked-cell.js';
import type { ExecutionOptions, SupernetParts, TrellisExecutor } from './types.js';

/**
 * The stacked trellis (the default): per node, the calls' transitions normalised as one grouped
 * batch, the cell run once on the calls stacked along the batch axis, edges reading one tensor
 * stacked (`applyStackedCell`). BN of cells, transitions and projections always uses batch
 * statistics here (train or eval mode) and is non-affine; their running statistics are not updated.
 * With `recompute`, each node is one `recomputeInBackward` tape node, and under a gradient tape it
 * keeps its convolutions' outputs for the recomputation (`ConvReplay`).
 */
export class StackedExecutor implements TrellisExecutor {
  /**
   * The replays of forwards and the tapes they were recorded on: each is freed by its node's
   * backward; leftovers (a backward that never ran or never reached a node) by the next forward
   * outside that tape.
   */
  private pendingReplays: { replay: ConvReplay; tape: unknown }[] = [];

  run(net: SupernetParts, x: tf.Tensor4D, options: ExecutionOptions): Map<Scale, tf.Tensor4D> {
    const [, height, width] = x.shape;
    // Outputs kept by forwards of other (finished) tapes whose backward never reached them.
    this.releaseReplays(activeTape());
    const replayBudget = new ReplayBudget(options.replayBudgetBytes ?? defaultReplayBudgetBytes());
    const targets = options.gradientTargets ? new Set(options.gradientTargets) : undefined;
    const wanted = (v: tf.Variable) => targets === undefined || targets.has(v);
    const alphaHat = net.normalizedAlpha();
    const beta = tf.unstack(net.normalizedBeta()) as tf.Scalar[];
    const history: Map<Scale, tf.Tensor4D>[] = [new Map([[4 as Scale, net.applyStem(x)]])];
    for (let layer = 1; layer <= net.config.layers; layer++) {
      const previous = history[layer - 1]!;
      const current = new Map<Scale, tf.Tensor4D>();
      for (const scale of net.topology.scalesAt(layer)) {
        const incoming = net.topology.incoming(layer, scale);
        const pp = net.prevPrevProjection(layer, scale);
        // Inputs: the calls' sources, the prev_prev source (if any), softmax(α), the calls' β̂.
        const inputs: tf.Tensor[] = [
          ...incoming.map((e) => previous.get(e.from)!),
          ...(pp ? [history[layer - 2]!.get(scale)!] : []),
          alphaHat,
          ...incoming.map((e) => beta[e.index]!),
        ];
        const cellParameters = net.cell(layer, scale).parameters();
        // A recomputed node under a gradient tape keeps its convs' outputs for the recomputation.
        const replay = options.recompute && recordingGradients() ? new ConvReplay(cellParameters.some(wanted), replayBudget) : undefined;
        if (replay) this.pendingReplays.push({ replay, tape: activeTape() });
        const node = (xs: readonly tf.Tensor[]) => stackedNode(net, layer, scale, [height, width], xs, wanted(net.alpha), replay?.convolve);
        if (!options.recompute) {
          current.set(scale, node(inputs));
          continue;
        }
        const variables = [...incoming.flatMap((e) => net.transition(e).parameters()), ...(pp ? pp.parameters() : []), ...cellParameters].filter(wanted);
        // softmax(α) and the β̂ are inputs: constants when α or β is not differentiated.
        const alphaIndex = incoming.length + (pp ? 1 : 0);
        const constants = new Set<number>();
        if (!wanted(net.alpha)) constants.add(alphaIndex);
        if (!wanted(net.beta)) incoming.forEach((_, i) => constants.add(alphaIndex + 1 + i));
        const hooks = replay && { before: () => replay.replay(), after: () => replay.dispose() };
        current.set(scale, recomputeInBackward(node, inputs, variables, constants, hooks) as tf.Tensor4D);
      }
      history.push(current);
    }
    return history[net.config.layers]!;
  }

  dispose(): void {
    this.releaseReplays(null);
  }

  /** Frees the kept outputs of every replay not recorded on `keepTape` (all with null). */
  private releaseReplays(keepTape: unknown): void {
    this.pendingReplays = this.pendingReplays.filter(({ replay, tape }) => {
      if (keepTape !== null && tape === keepTape) return true;
      replay.dispose();
      return false;
    });
  }
}

/**
 * One node of the stacked trellis from `xs` = [the calls' source nodes…, prev_prev source?,
 * softmax(α), the calls' β̂…] (see `StackedExecutor.run`).
 */
function stackedNode(
  net: SupernetParts,
  layer: number,
  scale: Scale,
  [height, width]: [number, number],
  xs: readonly tf.Tensor[],
  alphaDifferentiated: boolean,
  convolve: StackInput['convolve'],
): tf.Tensor4D {
  const [h, w] = [nodeSize(height, scale), nodeSize(width, scale)];
  const incoming = net.topology.incoming(layer, scale);
  const k = incoming.length;
  const pp = net.prevPrevProjection(layer, scale);
  const sources = xs.slice(0, k) as tf.Tensor4D[];
  const ppSource = pp ? (xs[k] as tf.Tensor4D) : undefined;
  const alpha = new AlphaColumns(xs[k + (pp ? 1 : 0)] as tf.Tensor2D, alphaDifferentiated);
  const weights = xs.slice(k + (pp ? 2 : 1)) as tf.Scalar[];
  // Transitions: each call's conv, then one BN over the calls stacked on the batch axis, per group.
  const convs = incoming.map((e, i) => net.transition(e).conv.apply(tf.relu(e.direction === 'up' ? resizeBilinear(sources[i]!, h, w) : sources[i]!)));
  const prev = new Activation(normalizeAs(net.transition(incoming[0]!), concatSliceGrad(convs, 0), k), k, convolve);
  const prevPrev = pp && ppSource ? new Activation(normalizeAs(pp, pp.conv.apply(tf.relu(ppSource)), 1), 1, convolve) : undefined;
  const cells = applyStackedCell(net.cell(layer, scale), { prev, prevPrev }, alpha);
  return combineCalls(cells, weights);
}

/** Batch-statistics BN with the epsilon of `module`'s (non-affine) BN. */
function normalizeAs(module: ReLUConvBN, x: tf.Tensor4D, groups: number): tf.Tensor4D {
  return batchNormalize(x, { groups, epsilon: module.bn.epsilon });
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
