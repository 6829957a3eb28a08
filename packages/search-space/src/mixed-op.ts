import * as tf from '@tensorflow/tfjs';
import { Module, type Rng } from '@autodeeplab/core';
import { createOp, isPreActivated, isZeroOp, type Op } from '@autodeeplab/ops';
import type { Activation } from './activation.js';

/** One candidate of an edge: its α column and whether it is a zero op (adds nothing). */
export interface Candidate {
  name: string;
  column: number;
  zero: boolean;
  op: Op;
}

/** Applies `op` to a shared input, using its ReLU when the op offers a pre-activated entry point. */
export function applyShared(op: Op, input: Activation): tf.Tensor4D {
  return isPreActivated(op) ? op.applyPreActivated(input.relu) : op.apply(input.x);
}

export interface MixedOpSpec {
  ops: readonly string[];
  channels: number;
  affine: boolean;
  rng: Rng;
}

/**
 * The continuous relaxation of one cell edge: Σ_k softmax(α_edge)_k · O_k(x), every O_k built from the
 * ops registry (stride 1: inputs reach the cell already at its scale). Zero ops (registry kind
 * 'zero', e.g. `none`) are built for completeness but skipped by the fused path: they add 0.
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

  /** Reference path: every op (zero ops included) applied to `x` on its own, weighted and summed. */
  apply(x: tf.Tensor4D, weights: readonly tf.Scalar[]): tf.Tensor4D {
    const terms = this.candidates.map((c) => tf.mul(weights[c.column]!, c.op.apply(x)) as tf.Tensor4D);
    return sum(terms);
  }

  /**
   * Fused path: pushes the outputs of the non-zero ops and their weights onto `out` (the block sums
   * them once, see `weightedSum`).
   */
  collectTerms(input: Activation, weights: readonly tf.Scalar[], out: Terms): void {
    for (const c of this.candidates) {
      if (c.zero) continue;
      out.weights.push(weights[c.column]!);
      out.terms.push(applyShared(c.op, input));
    }
  }
}

/** Weighted terms waiting to be summed. */
export interface Terms {
  weights: tf.Scalar[];
  terms: tf.Tensor4D[];
}

/** The sum of a non-empty list of same-shaped tensors in one kernel. */
export function sum(terms: readonly tf.Tensor4D[]): tf.Tensor4D {
  if (terms.length === 0) throw new Error('sum of no tensors');
  return terms.length === 1 ? terms[0]! : (tf.addN(terms as tf.Tensor4D[]) as tf.Tensor4D);
}
