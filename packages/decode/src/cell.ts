import { UserInputError } from '@autodeeplab/core';
import { cellEdges, type Block, type CellEdge } from '@autodeeplab/genotype';
import { readMatrix, softmax, type MatrixLike } from './numeric.js';

/** The op that means "no connection"; it never survives decoding. */
export const ZERO_OP = 'none';

/**
 * How an edge's strength is measured when choosing a block's two inputs.
 * - `softmax` (default): the largest softmax(α) weight of the edge over the ops other than `none`.
 *   The paper's α in "max_{k, O^k ≠ zero} α^k_{j→i}" is the normalised mixing weight (its Eq. 2–3),
 *   and DARTS's decoder compares softmax weights, so this is the paper-faithful reading.
 * - `logit`: the same maximum over the raw α logits. Within one edge the argmax is identical; only
 *   the comparison across edges differs (softmax also rewards an edge whose other ops are weak).
 */
export type EdgeStrength = 'softmax' | 'logit';

export interface DecodeCellOptions {
  /** Op names, in α's column order. */
  ops: readonly string[];
  /** Blocks per cell; α has `cellEdges(blocks).length` rows. */
  blocks: number;
  /** Default `softmax`; see {@link EdgeStrength}. */
  strength?: EdgeStrength;
}

/** One edge as the decoder scored it, for inspection and plots. */
export interface ScoredEdge extends CellEdge {
  /** The edge's strength under the chosen measure. */
  strength: number;
  /** The best op other than `none` and its column. */
  op: string;
  opIndex: number;
}

/** Best non-`none` column of a row; on exact ties the lower column wins. */
function argmaxExcluding(row: readonly number[], excluded: ReadonlySet<number>): number {
  let best = -1;
  row.forEach((x, k) => {
    if (excluded.has(k)) return;
    if (best < 0 || x > row[best]!) best = k;
  });
  return best;
}

/** Scores every edge of the cell: its strength and best op, `none` excluded. */
export function scoreCellEdges(alpha: MatrixLike, options: DecodeCellOptions): ScoredEdge[] {
  const { ops, blocks, strength = 'softmax' } = options;
  if (!Number.isInteger(blocks) || blocks < 1) throw new UserInputError(`blocks must be a positive integer, found ${blocks}`);
  const excluded = new Set(ops.flatMap((name, k) => (name === ZERO_OP ? [k] : [])));
  if (excluded.size === ops.length) {
    throw new UserInputError(`ops must name at least one op other than '${ZERO_OP}', found [${ops.join(', ')}]`);
  }
  const edges = cellEdges(blocks);
  const rows = readMatrix(alpha, edges.length, ops.length, `α (rows: the ${edges.length} cell edges, columns: ops [${ops.join(', ')}])`);
  return edges.map((edge) => {
    const row = strength === 'softmax' ? softmax(rows[edge.index]!) : rows[edge.index]!;
    const opIndex = argmaxExcluding(row, excluded);
    return { ...edge, strength: row[opIndex]!, op: ops[opIndex]!, opIndex };
  });
}

/**
 * Decodes the discrete cell from α (paper §4.3): for each block, the two strongest incoming edges, each
 * with its argmax op, `none` never chosen. α holds the logits (the supernet's variable), rows in
 * `cellEdges(blocks)` order, columns in `ops` order.
 *
 * Ties are broken deterministically: between edges of equal strength the lower edge index (prev_prev,
 * prev, block1, …) wins; between ops of equal weight the lower column wins. The two branches of a
 * block are listed strongest first.
 */
export function decodeCell(alpha: MatrixLike, options: DecodeCellOptions): Block[] {
  const scored = scoreCellEdges(alpha, options);
  const cell: Block[] = [];
  for (let block = 1; block <= options.blocks; block++) {
    // Stable sort on strength alone keeps edge order among equals.
    const incoming = scored.filter((e) => e.block === block).sort((a, b) => b.strength - a.strength);
    const [first, second] = incoming as [ScoredEdge, ScoredEdge];
    cell.push([
      { op: first.op, input: first.input },
      { op: second.op, input: second.input },
    ]);
  }
  return cell;
}
