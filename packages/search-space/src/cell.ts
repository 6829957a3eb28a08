import * as tf from '@tensorflow/tfjs';
import { Module, type Rng } from '@autodeeplab/core';
import { cellEdges, type CellEdge } from '@autodeeplab/genotype';
import { MixedOp, sum, type Candidate } from './mixed-op.js';

export interface SearchCellSpec {
  blocks: number;
  /** Block width F·s/4: inputs arrive projected to it, every op keeps it. */
  channels: number;
  ops: readonly string[];
  affine: boolean;
  rng: Rng;
  /**
   * Whether the cell reads H^{l−2} (default true). Without it (a dropped missing H^{l−2}) the edges
   * from prev_prev are not built: no ops, no compute; every block sums its other inputs.
   */
  prevPrev?: boolean;
}

/** α weights of one forward: `weights[edge][column]` scalars, the softmax of α over the ops. */
export type EdgeWeights = readonly (readonly tf.Scalar[])[];

/**
 * The search cell (paper §3.1, §4.1.1): B blocks, block i the sum of mixed ops over every allowed
 * input (prev_prev, prev, earlier blocks; `cellEdges` order, which is α's row order); output the
 * concatenation of the blocks.
 */
export class SearchCell extends Module {
  /** The edges the cell has, in α's row order (without prev_prev's when `hasPrevPrev` is false). */
  readonly edges: readonly CellEdge[];
  /** The mixed op of each edge, indexed by the edge's α row (`edge.index`); undefined for an edge the cell lacks. */
  readonly mixed: readonly (MixedOp | undefined)[];
  readonly blocks: number;
  readonly hasPrevPrev: boolean;

  constructor(name: string, spec: SearchCellSpec) {
    super(name);
    this.blocks = spec.blocks;
    this.hasPrevPrev = spec.prevPrev ?? true;
    const all = cellEdges(spec.blocks);
    this.edges = all.filter((e) => this.hasPrevPrev || e.input !== 'prev_prev');
    const mixed: (MixedOp | undefined)[] = all.map(() => undefined);
    for (const edge of this.edges) {
      mixed[edge.index] = this.addChild(
        `edge${edge.index}`,
        (n) => new MixedOp(n, { ops: spec.ops, channels: spec.channels, affine: spec.affine, rng: spec.rng }),
      );
    }
    this.mixed = mixed;
  }

  /** The candidates of every edge (the same ops on each), in α's column order. */
  get candidates(): readonly Candidate[] {
    return this.mixed[this.edges[0]!.index]!.candidates;
  }

  /** One call, every edge computed on its own. `prevPrev` is required when the cell has prev_prev edges, ignored otherwise. */
  apply(prev: tf.Tensor4D, prevPrev: tf.Tensor4D | undefined, weights: EdgeWeights): tf.Tensor4D {
    if (this.hasPrevPrev && !prevPrev) throw new Error(`${this.name}: the cell reads H^{l-2} but none was given`);
    const states = new Map<string, tf.Tensor4D>([['prev', prev]]);
    if (this.hasPrevPrev) states.set('prev_prev', prevPrev!);
    const outputs: tf.Tensor4D[] = [];
    for (let block = 1; block <= this.blocks; block++) {
      const terms = this.edges.filter((e) => e.block === block).map((e) => this.mixed[e.index]!.apply(states.get(e.input)!, weights[e.index]!));
      const out = sum(terms);
      states.set(`block${block}`, out);
      outputs.push(out);
    }
    return tf.concat(outputs, 3);
  }
}
