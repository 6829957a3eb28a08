import * as tf from '@tensorflow/tfjs';
import { Module, type Rng } from '@autodeeplab/core';
import { createOp, isZeroOp, type Op } from '@autodeeplab/ops';

/** One candidate of an edge: its α column and whether it is a zero op (adds nothing). */
export interface Candidate {
  name: string;
  column: number;
  zero: boolean;
  op: Op;
}

export interface MixedOpSpec {
  ops: readonly string[];
  channels: number;
  affine: boolean;
  rng: Rng;
}

/**
 * The continuous relaxation of one cell edge (paper §4.1.1): Σ_k softmax(α_edge)_k · O_k(x),
 * every O_k built from the ops registry (stride 1: inputs reach the cell already at its scale).
 * Zero ops (registry kind 'zero', e.g. `none`) are built for completeness; the fast paths skip them.
 */
export class MixedOp extends Module {
  readonly candidates: readonly Candidate[];

  constructor(name: string, spec: MixedOpSpec) {
    super(name);
    this.candidates = spec.ops.map((opName, column) => ({
      name: opName,
      column,
      zero: isZeroOp(opName),
      op: this.addChild(opName, (n) => createOp(opName, { name: n, channels: spec.channels, stride: 1, affine: spec.affine, rng: spec.rng })),
    }));
  }

  /** Every op (zero ops included) applied to `x` on its own, weighted by `weights[column]` and summed. */
  apply(x: tf.Tensor4D, weights: readonly tf.Scalar[]): tf.Tensor4D {
    const terms = this.candidates.map((c) => tf.mul(weights[c.column]!, c.op.apply(x)) as tf.Tensor4D);
    return sum(terms);
  }
}

/** The sum of a non-empty list of same-shaped tensors in one kernel. */
export function sum(terms: readonly tf.Tensor4D[]): tf.Tensor4D {
  if (terms.length === 0) throw new Error('sum of no tensors');
  return terms.length === 1 ? terms[0]! : (tf.addN(terms as tf.Tensor4D[]) as tf.Tensor4D);
}
