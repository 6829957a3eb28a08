import * as tf from '@tensorflow/tfjs';
import { Module, type Rng } from '@autodeeplab/core';
import { cellEdges, type CellEdge } from '@autodeeplab/genotype';
import { MixedOp, sum } from './mixed-op.js';

export interface SearchCellSpec {
  blocks: number;
  /** Block width F·s/4: inputs arrive projected to it, every op keeps it. */
  channels: number;
  ops: readonly string[];
  affine: boolean;
  rng: Rng;
}

/** α weights of one forward: `weights[edge][column]` scalars, the softmax of α over the ops. */
export type EdgeWeights = readonly (readonly tf.Scalar[])[];

/**
 * The search cell (paper §3.1, §4.1.1): B blocks, block i the sum of mixed ops over every allowed
 * input (prev_prev, prev, earlier blocks; `cellEdges` order, which is α's row order); output the
 * concatenation of the blocks.
 */
export class SearchCell extends Module {
  readonly edges: readonly CellEdge[];
  readonly mixed: readonly MixedOp[];
  readonly blocks: number;

  constructor(name: string, spec: SearchCellSpec) {
    super(name);
    this.blocks = spec.blocks;
    this.edges = cellEdges(spec.blocks);
    this.mixed = this.edges.map((edge) =>
      this.addChild(`edge${edge.index}`, (n) => new MixedOp(n, { ops: spec.ops, channels: spec.channels, affine: spec.affine, rng: spec.rng })),
    );
  }

  /** One call, every edge computed on its own. */
  apply(prev: tf.Tensor4D, prevPrev: tf.Tensor4D, weights: EdgeWeights): tf.Tensor4D {
    const states = new Map<string, tf.Tensor4D>([
      ['prev_prev', prevPrev],
      ['prev', prev],
    ]);
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
