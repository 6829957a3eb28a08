import * as tf from '@tensorflow/tfjs';
import { SCALES, type CellInput, type Scale } from './schema.js';

/**
 * The fixed wiring conventions shared by the supernet (which owns α and β) and the decoder (which
 * reads them). Keeping them in one place is what makes decoding trustworthy.
 */

/** One edge of the search cell: into block `block` (1-based) from `input`. */
export interface CellEdge {
  index: number;
  block: number;
  input: CellInput;
}

/**
 * The edges of a search cell with `blocks` blocks, in α's row order: block 1 takes prev_prev, prev;
 * block 2 takes prev_prev, prev, block1; … (2+3+4+5+6 = 20 edges for 5 blocks).
 */
export function cellEdges(blocks: number): CellEdge[] {
  const edges: CellEdge[] = [];
  for (let block = 1; block <= blocks; block++) {
    const inputs: CellInput[] = ['prev_prev', 'prev'];
    for (let j = 1; j < block; j++) inputs.push(`block${j}`);
    for (const input of inputs) edges.push({ index: edges.length, block, input });
  }
  return edges;
}

/** Direction of a trellis edge, from the source node's point of view. */
export type Direction = 'down' | 'same' | 'up';

/** An outgoing edge of the trellis: from node (layer, fromScale) to node (layer + 1, toScale). */
export interface TrellisEdge {
  /** Position in the flat β vector. */
  index: number;
  /** Layer of the source node: 0 is the stem output (s = 4), 1..L−1 the cell layers. */
  layer: number;
  from: Scale;
  to: Scale;
  direction: Direction;
}

/**
 * The trellis: layer 0 is the stem output (s = 4 only), layers 1..L the cell layers; node
 * (l, scales[i]) exists when i ≤ l (s = 8 appears at layer 1, s = 16 at layer 2, s = 32 at layer 3).
 * β holds one logit per outgoing edge of every node of layers 0..L−1, in the order of `edges`;
 * it is normalised by a softmax over each node's outgoing edges (paper Eq. 7–8).
 */
export class TrellisTopology {
  readonly edges: readonly TrellisEdge[];

  constructor(
    readonly layers: number,
    readonly scales: readonly Scale[] = SCALES,
  ) {
    if (layers < 1) throw new Error(`the trellis needs at least one layer, got ${layers}`);
    if (scales.length < 1 || scales[0] !== 4) throw new Error(`scales must start at 4, got [${scales}]`);
    scales.forEach((s, i) => {
      if (i > 0 && s !== scales[i - 1]! * 2) throw new Error(`scales must double at each step, got [${scales}]`);
    });
    const edges: TrellisEdge[] = [];
    for (let layer = 0; layer < layers; layer++) {
      for (let i = 0; i < scales.length; i++) {
        if (!this.nodeExists(layer, scales[i]!)) continue;
        const from = scales[i]!;
        if (i + 1 < scales.length) edges.push({ index: edges.length, layer, from, to: scales[i + 1]!, direction: 'down' });
        edges.push({ index: edges.length, layer, from, to: from, direction: 'same' });
        if (i > 0) edges.push({ index: edges.length, layer, from, to: scales[i - 1]!, direction: 'up' });
      }
    }
    this.edges = edges;
  }

  /** Whether node (layer, scale) exists: layer 0 holds only s = 4; scale index i appears at layer i. */
  nodeExists(layer: number, scale: Scale): boolean {
    const i = this.scales.indexOf(scale);
    return i >= 0 && layer >= 0 && layer <= this.layers && i <= layer;
  }

  /** Scales present at a layer. */
  scalesAt(layer: number): Scale[] {
    return this.scales.filter((s) => this.nodeExists(layer, s));
  }

  /** The outgoing edges of node (layer, scale). */
  outgoing(layer: number, scale: Scale): TrellisEdge[] {
    return this.edges.filter((e) => e.layer === layer && e.from === scale);
  }

  /** The edges into node (layer, scale), i.e. from layer − 1. */
  incoming(layer: number, scale: Scale): TrellisEdge[] {
    return this.edges.filter((e) => e.layer === layer - 1 && e.to === scale);
  }

  /** The edge from (layer, from) to (layer + 1, to), if any. */
  edge(layer: number, from: Scale, to: Scale): TrellisEdge | undefined {
    return this.edges.find((e) => e.layer === layer && e.from === from && e.to === to);
  }

  /** Number of β entries. */
  get betaSize(): number {
    return this.edges.length;
  }

  /**
   * Normalised β: for every node, the softmax of its outgoing logits, so that they sum to 1 (two
   * edges at the boundary scales). A node's outgoing edges are adjacent in β, so this is a softmax
   * per contiguous slice — differentiable on every backend (a gather would need UnsortedSegmentSum,
   * which tfjs-backend-wasm lacks), and every logit receives a gradient.
   */
  normalizeBeta(beta: tf.Tensor1D): tf.Tensor1D {
    if (beta.shape[0] !== this.betaSize) {
      throw new Error(`β has ${beta.shape[0]} entries; this trellis has ${this.betaSize} edges`);
    }
    return tf.tidy(() => {
      const parts: tf.Tensor1D[] = [];
      for (let start = 0; start < this.betaSize;) {
        const first = this.edges[start]!;
        const size = this.outgoing(first.layer, first.from).length;
        parts.push(tf.softmax(tf.slice(beta, [start], [size])));
        start += size;
      }
      return tf.concat(parts);
    });
  }
}
