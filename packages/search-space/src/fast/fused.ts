import * as tf from '@tensorflow/tfjs';
import { resizeBilinear } from '@autodeeplab/core';
import type { Scale, TrellisEdge } from '@autodeeplab/genotype';
import { Activation, isPreActivated, type Op } from '@autodeeplab/ops';
import type { EdgeWeights, SearchCell } from '../cell.js';
import { nodeSize } from '../config.js';
import type { MixedOp } from '../mixed-op.js';
import type { ExecutionOptions, SupernetParts, TrellisExecutor } from './types.js';
import { weightedSum } from './weighted-sum.js';

/**
 * The fused trellis: each node's ReLU computed once, prev_prev projected and its edges run once per
 * node, zero ops skipped, the weighted sums as single tape nodes; module BNs (affine or not, running
 * statistics in eval mode). The fast path for affine configs.
 */
export class FusedExecutor implements TrellisExecutor {
  run(net: SupernetParts, x: tf.Tensor4D, _options: ExecutionOptions): Map<Scale, tf.Tensor4D> {
    const [, height, width] = x.shape;
    const alpha: EdgeWeights = tf.unstack(net.normalizedAlpha()).map((row) => tf.unstack(row) as tf.Scalar[]);
    const beta = tf.unstack(net.normalizedBeta()) as tf.Scalar[];
    const history: Map<Scale, Activation>[] = [new Map([[4 as Scale, new Activation(net.applyStem(x))]])];
    for (let layer = 1; layer <= net.config.layers; layer++) {
      const previous = history[layer - 1]!;
      const current = new Map<Scale, Activation>();
      for (const scale of net.topology.scalesAt(layer)) {
        const size: [number, number] = [nodeSize(height, scale), nodeSize(width, scale)];
        const calls: CellCall[] = net.topology.incoming(layer, scale).map((e) => ({
          prev: new Activation(transition(net, e, previous.get(e.from)!, size)),
          weight: beta[e.index]!,
        }));
        const pp = net.prevPrevProjection(layer, scale);
        const prevPrev = pp ? new Activation(pp.applyPreActivated(history[layer - 2]!.get(scale)!.relu())) : undefined;
        current.set(scale, new Activation(applyCalls(net.cell(layer, scale), calls, prevPrev, alpha)));
      }
      history.push(current);
    }
    return new Map([...history[net.config.layers]!].map(([s, a]) => [s, a.x]));
  }

  dispose(): void {}
}

function transition(net: SupernetParts, e: TrellisEdge, source: Activation, [h, w]: [number, number]): tf.Tensor4D {
  const t = net.transition(e);
  if (e.direction === 'up') return t.apply(resizeBilinear(source.x, h, w));
  return t.applyPreActivated(source.relu());
}

/** One call of a cell: its `prev` input and the weight (normalised β) of the trellis edge it serves. */
interface CellCall {
  prev: Activation;
  weight: tf.Scalar;
}

/** Weighted terms waiting to be summed. */
interface Terms {
  weights: tf.Scalar[];
  terms: tf.Tensor4D[];
}

/**
 * Σ_c weight_c · cell(prev_c, prevPrev) over the node's calls, in one pass. The edges reading
 * prev_prev see the same tensor and the same ops in every call, so their terms are computed once and
 * shared (exact in train mode, where BN uses batch statistics). Without `prevPrev` each call uses its
 * own prev in that role, unless the cell has no prev_prev edges (a dropped H^{l−2}).
 */
function applyCalls(cell: SearchCell, calls: readonly CellCall[], prevPrev: Activation | undefined, weights: EdgeWeights): tf.Tensor4D {
  const shared: Terms[] = [];
  if (prevPrev) {
    for (let block = 1; block <= cell.blocks; block++) {
      const terms: Terms = { weights: [], terms: [] };
      for (const e of cell.edges) {
        if (e.block === block && e.input === 'prev_prev') collectTerms(cell.mixed[e.index]!, prevPrev, weights[e.index]!, terms);
      }
      shared.push(terms);
    }
  }
  const outputs = calls.map((call) => {
    const states = new Map<string, Activation>([['prev', call.prev]]);
    if (cell.hasPrevPrev) states.set('prev_prev', prevPrev ?? call.prev);
    const blocks: tf.Tensor4D[] = [];
    for (let block = 1; block <= cell.blocks; block++) {
      const pp = shared[block - 1];
      const terms: Terms = { weights: pp ? [...pp.weights] : [], terms: pp ? [...pp.terms] : [] };
      for (const e of cell.edges) {
        if (e.block !== block || (prevPrev && e.input === 'prev_prev')) continue;
        collectTerms(cell.mixed[e.index]!, states.get(e.input)!, weights[e.index]!, terms);
      }
      const out = weightedSum(terms.weights, terms.terms);
      states.set(`block${block}`, new Activation(out));
      blocks.push(out);
    }
    return blocks.length === 1 ? blocks[0]! : tf.concat(blocks, 3);
  });
  return weightedSum(
    calls.map((c) => c.weight),
    outputs,
  );
}

/** Pushes the outputs of a mixed op's non-zero ops and their weights onto `out` (summed once, see `weightedSum`). */
function collectTerms(mixed: MixedOp, input: Activation, weights: readonly tf.Scalar[], out: Terms): void {
  for (const c of mixed.candidates) {
    if (c.zero) continue;
    out.weights.push(weights[c.column]!);
    out.terms.push(applyShared(c.op, input));
  }
}

/** Applies `op` to a shared input, using its ReLU when the op offers a pre-activated entry point. */
export function applyShared(op: Op, input: Activation): tf.Tensor4D {
  return isPreActivated(op) ? op.applyPreActivated(input.relu()) : op.apply(input.x);
}
