import * as tf from '@tensorflow/tfjs';
import { columnDot, edgeWeightedSum } from '@autodeeplab/core';
import { Activation, applyStacked, type StackOutput } from '@autodeeplab/ops';
import type { SearchCell } from '../cell.js';

/**
 * The stacked cell (the supernet's default forward): all edges that read the same tensor run
 * together (see `applyStacked` in @autodeeplab/ops), and the up to three calls of one node run as one
 * batch of `groups`·N images whose BN statistics are kept per group. Exact in train mode.
 */

/**
 * softmax(α) rows of a set of edges, one [E, 1] column per op, built once per forward and shared by
 * every cell (α is shared): a selection matmul and a split, instead of per-edge scalars.
 */
export class AlphaColumns {
  private readonly cache = new Map<string, tf.Tensor[]>();

  /**
   * `differentiated: false` when no gradient of α is wanted (a weight step): the weighted sums then
   * skip the reductions that make it.
   */
  constructor(
    private readonly alphaHat: tf.Tensor2D,
    readonly differentiated = true,
  ) {}

  columns(edges: readonly number[]): tf.Tensor[] {
    const key = edges.join(',');
    let found = this.cache.get(key);
    if (!found) {
      const [rows, ops] = this.alphaHat.shape;
      const select = new Float32Array(edges.length * rows);
      edges.forEach((edge, i) => (select[i * rows + edge] = 1));
      const picked = tf.matMul(tf.tensor2d(select, [edges.length, rows]), this.alphaHat);
      found = ops === 1 ? [picked] : tf.split(picked, ops, 1);
      this.cache.set(key, found);
    }
    return found;
  }
}

/** How a group's op outputs are laid out: P pixels (all images), E edges, C channels per edge. */
export interface EdgeLayout {
  pixels: number;
  edges: number;
  channels: number;
}

/**
 * Σ_k w_k ⊙ t_k for E stacked edges, edge-major: [E, P·C]. `terms[k]` holds P·E·C values (per edge:
 * pixel-major, then edge, then channel, as a stacked op's [N, H, W, E·C] output) or P·C (one term
 * shared by all edges); `weights[k]` is [E, 1]. One tape node that keeps only the terms (and the small
 * weights); the reshapes and the transpose to edge-major run inside it, so a recomputed forward
 * records none of them. With `weightGradients: false` the gradient of the weights is zero (not computed).
 */
export function stackedWeightedSum(weights: readonly tf.Tensor[], terms: readonly tf.Tensor[], layout: EdgeLayout, weightGradients = true): tf.Tensor2D {
  const { pixels: p, edges, channels: c } = layout;
  const m = terms.length;
  const as3d = (x: tf.Tensor) => tf.reshape(x, [p, x.size === p * edges * c ? edges : 1, c]) as tf.Tensor3D;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[2 * m] as tf.GradSaveFunc;
    const w = args.slice(0, m) as tf.Tensor[];
    const t = args.slice(m, 2 * m) as tf.Tensor[];
    save([...w, ...t]);
    // The weights as one [K, E] matrix (from K tiny [E, 1] columns).
    const summed = edgeWeightedSum(
      tf.concat(
        w.map((x) => tf.reshape(x, [1, edges])),
        0,
      ) as tf.Tensor2D,
      t.map(as3d),
    );
    const value = tf.reshape(edges === 1 ? summed : tf.transpose(summed, [1, 0, 2]), [edges, p * c]) as tf.Tensor2D;
    return {
      value,
      gradFunc: (dyEdgeMajor: tf.Tensor, saved: tf.Tensor[]) => {
        const dy3 = tf.reshape(dyEdgeMajor, [edges, p, c]);
        const dy = (edges === 1 ? tf.reshape(dy3, [p, 1, c]) : tf.transpose(dy3, [1, 0, 2])) as tf.Tensor3D;
        const sw = saved.slice(0, m);
        const st = saved.slice(m);
        // dw[e] = Σ over pixels and channels of dy·t: one fused column sum per edge and channel
        // (a term shared by all edges, [P, 1, C], read for every edge), then over channels.
        const dw = st.map((x) => (weightGradients ? tf.reshape(tf.sum(columnDot(dy, as3d(x)), 1), [edges, 1]) : tf.zeros([edges, 1])));
        const dt = sw.map((wk, k) => {
          const g = edgeWeightedSum(tf.reshape(wk, [1, edges]) as tf.Tensor2D, [dy]);
          const term = st[k]!;
          return tf.reshape(term.size === p * edges * c ? g : tf.sum(g, 1), term.shape);
        });
        return [...dw, ...dt];
      },
    };
  });
  return op(...weights, ...terms) as tf.Tensor2D;
}

export interface StackedCellInputs {
  /** The calls' projected prev inputs, stacked on the batch axis ([G·N, H, W, C], G groups). */
  prev: Activation;
  /**
   * The node's projected prev_prev ([N, H, W, C], one group); absent: each call uses its prev, or
   * nothing when the cell has no prev_prev edges (a dropped H^{l−2}).
   */
  prevPrev: Activation | undefined;
}

/**
 * Runs `cell` once for all its calls: returns the concatenated blocks [G·N, H, W, B·C], group g being
 * call g's cell output. Inputs are processed in dependency order: prev_prev and prev first (one
 * group when prev_prev is absent: both are then the same tensor; prev alone when the cell has no
 * prev_prev edges), then each block as soon as it is complete.
 *
 * No split and no concat on the channel axis (tfjs-backend-wasm slices channels with JavaScript row
 * copies, which made them the slowest kernel of a step at the paper's sizes): each group's weighted output is
 * transposed edge-major, [E, M·H·W·C], and accumulated per target block in a block-major
 * accumulator [B, M·H·W·C]; row b is final once blocks 1..b are, so each block input is a contiguous
 * row and the final accumulator, transposed once, is the concatenation of the blocks.
 */
export function applyStackedCell(cell: SearchCell, inputs: StackedCellInputs, alpha: AlphaColumns): tf.Tensor4D {
  const { prev } = inputs;
  const prevPrev = inputs.prevPrev ?? prev;
  const groups = prev.groups;
  const blocks = cell.blocks;
  const candidates = cell.candidates.filter((c) => !c.zero);
  const [m, h, w, c] = prev.x.shape;
  const pixels = m * h * w;

  /** The weighted op outputs of the edges reading `input` and coming from `names`, edge-major [E, M·H·W·C]. */
  const runGroup = (input: Activation, names: readonly string[]): tf.Tensor2D => {
    // Edges ordered by input name, then block: one block per edge within each name.
    const edges = names.flatMap((name) => cell.edges.filter((e) => e.input === name));
    const outputs: StackOutput[] = candidates.map((cand) =>
      applyStacked(
        cand.name,
        edges.map((e) => cell.mixed[e.index]!.candidates[cand.column]!.op),
        input,
      ),
    );
    const weights = alpha.columns(edges.map((edge) => edge.index));
    return stackedWeightedSum(
      candidates.map((cand) => weights[cand.column]!),
      outputs.map((o) => o.y),
      { pixels: input.x.shape[0] * h * w, edges: edges.length, channels: c },
      alpha.differentiated,
    );
  };

  let acc: tf.Tensor2D;
  if (!cell.hasPrevPrev) {
    // [B, M·H·W·C]: block b's row is the prev edge into block b (one per block).
    acc = runGroup(prev, ['prev']);
  } else if (prevPrev === prev) {
    // [2B, M·H·W·C]: the prev_prev edges' rows then the prev edges' rows, block-aligned each.
    const both = runGroup(prev, ['prev_prev', 'prev']);
    acc = tf.sum(tf.reshape(both, [2, blocks * pixels * c]), 0).reshape([blocks, pixels * c]) as tf.Tensor2D;
  } else {
    // prev_prev has N images, prev G·N: broadcast over the groups.
    const fromPrev = tf.reshape(runGroup(prev, ['prev']), [blocks, groups, (pixels / groups) * c]);
    const fromPrevPrev = tf.reshape(runGroup(prevPrev, ['prev_prev']), [blocks, 1, (pixels / groups) * c]);
    acc = tf.reshape(tf.add(fromPrev, fromPrevPrev), [blocks, pixels * c]) as tf.Tensor2D;
  }
  for (let block = 1; block < blocks; block++) {
    const out = tf.reshape(tf.slice(acc, [block - 1, 0], [1, pixels * c]), [m, h, w, c]) as tf.Tensor4D;
    const feeds = runGroup(new Activation(out, groups, prev.convolve), [`block${block}`]);
    acc = tf.add(
      acc,
      tf.pad(feeds, [
        [block, 0],
        [0, 0],
      ]),
    );
  }
  const blockMajor = tf.reshape(acc, [blocks, pixels, c]);
  return tf.reshape(blocks === 1 ? blockMajor : tf.transpose(blockMajor, [1, 0, 2]), [m, h, w, blocks * c]) as tf.Tensor4D;
}
