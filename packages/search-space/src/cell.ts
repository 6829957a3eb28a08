import * as tf from '@tensorflow/tfjs';
import { Module, type Rng } from '@autodeeplab/core';
import { cellEdges, type CellEdge } from '@autodeeplab/genotype';
import { Activation } from './activation.js';
import { MixedOp, sum, type Terms } from './mixed-op.js';
import { weightedSum } from './weighted-sum.js';

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

/** One call of the cell: its `prev` input and the weight (normalised β) of the trellis edge it serves. */
export interface CellCall {
  prev: Activation;
  weight: tf.Scalar;
}

/**
 * The search cell: B blocks, block i the sum of mixed ops over every allowed input (prev_prev, prev,
 * earlier blocks; `cellEdges` order, which is α's row order); output the concatenation of the blocks.
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

  /** Reference path: one call, every edge computed plainly. */
  apply(prev: tf.Tensor4D, prevPrev: tf.Tensor4D, weights: EdgeWeights): tf.Tensor4D {
    const states = new Map<string, tf.Tensor4D>([
      ['prev_prev', prevPrev],
      ['prev', prev],
    ]);
    const outputs: tf.Tensor4D[] = [];
    for (let block = 1; block <= this.blocks; block++) {
      const terms = this.edges
        .filter((e) => e.block === block)
        .map((e) => this.mixed[e.index]!.apply(states.get(e.input)!, weights[e.index]!));
      const out = sum(terms);
      states.set(`block${block}`, out);
      outputs.push(out);
    }
    return tf.concat(outputs, 3);
  }

  /**
   * Fused path: Σ_c weight_c · cell(prev_c, prevPrev) over the node's calls, in one pass. The edges
   * reading prev_prev see the same tensor and the same ops in every call, so their terms are computed
   * once and shared (exact in train mode, where BN uses batch statistics). Without `prevPrev` each call
   * uses its own prev in that role.
   */
  applyCalls(calls: readonly CellCall[], prevPrev: Activation | undefined, weights: EdgeWeights): tf.Tensor4D {
    const shared: Terms[] = [];
    if (prevPrev) {
      for (let block = 1; block <= this.blocks; block++) {
        const terms: Terms = { weights: [], terms: [] };
        for (const e of this.edges) {
          if (e.block === block && e.input === 'prev_prev') this.mixed[e.index]!.collectTerms(prevPrev, weights[e.index]!, terms);
        }
        shared.push(terms);
      }
    }
    const outputs = calls.map((call) => {
      const states = new Map<string, Activation>([
        ['prev_prev', prevPrev ?? call.prev],
        ['prev', call.prev],
      ]);
      const blocks: tf.Tensor4D[] = [];
      for (let block = 1; block <= this.blocks; block++) {
        const pp = shared[block - 1];
        const terms: Terms = { weights: pp ? [...pp.weights] : [], terms: pp ? [...pp.terms] : [] };
        for (const e of this.edges) {
          if (e.block !== block || (prevPrev && e.input === 'prev_prev')) continue;
          this.mixed[e.index]!.collectTerms(states.get(e.input)!, weights[e.index]!, terms);
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
}
