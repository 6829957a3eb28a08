// Test helpers (not exported from the package).
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@autodeeplab/core';
import type { Op } from './registry.js';

/**
 * Input values spread on a grid and shuffled: every |value| ≥ 0.25 (a ReLU at the head never flips
 * under a perturbation of h ≤ 0.02) and any two values differ by ≥ 0.05 (max pooling never changes
 * its argmax under such a perturbation).
 */
export function wellSeparatedInput(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  const size = shape.reduce((a, b) => a * b, 1);
  const rng = new Rng(seed);
  const values = new Float32Array(size);
  const order = rng.permutation(size);
  for (let i = 0; i < size; i++) {
    const j = order[i]!;
    const magnitude = 0.25 + 0.05 * Math.floor(j / 2);
    values[i] = j % 2 === 0 ? magnitude : -magnitude;
  }
  return tf.tensor4d(values, shape);
}

/** Random normal values (seeded). */
export function normalTensor(shape: number[], seed: number, std = 1): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(new Rng(seed).normals(size, std), shape);
}

/** Σ y·r in float64 (no float32 summation error in the loss itself). */
export function dot64(y: Float32Array | Int32Array | Uint8Array, r: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < r.length; i++) sum += y[i]! * r[i]!;
  return sum;
}

export interface Gradients {
  /** Output values. */
  y: Float32Array;
  /** Gradient of Σ y·R for x then every parameter of the op (in `op.namedParameters()` order). */
  grads: Map<string, Float32Array>;
}

/** Output and analytic gradients of L = Σ op(x)·R with respect to x and the op's parameters. */
export function analyticGradients(op: Op, x: tf.Tensor4D, r: tf.Tensor): Gradients {
  const xVar = tf.variable(x, true);
  try {
    const params = op.namedParameters();
    const variables = [xVar, ...params.values()];
    let y!: Float32Array;
    const { value, grads } = tf.variableGrads(() => {
      const out = op.apply(xVar);
      y = out.dataSync() as Float32Array;
      return tf.sum(tf.mul(out, r)) as tf.Scalar;
    }, variables);
    value.dispose();
    const result = new Map<string, Float32Array>();
    result.set('x', grads[xVar.name]!.dataSync() as Float32Array);
    for (const [path, variable] of params) result.set(path, grads[variable.name]!.dataSync() as Float32Array);
    tf.dispose(grads);
    return { y, grads: result };
  } finally {
    xVar.dispose();
  }
}

export interface NumericGradients {
  grads: Map<string, Float32Array>;
  /** Entries whose ± perturbation flipped the sign of a probed pre-activation (a ReLU kink was crossed). */
  kinks: Map<string, number[]>;
}

/**
 * Central finite differences (L(v + h) − L(v − h)) / 2h of L = Σ op(x)·R (float64 sum) for every entry
 * of x and of every parameter. `probe(x)` returns the inputs of the op's inner ReLUs: an entry whose
 * perturbation changes the sign of one of them straddles a kink, where the difference quotient is not
 * the derivative; such entries are reported in `kinks`.
 */
export function numericGradients(op: Op, x: tf.Tensor4D, r: tf.Tensor, h: number, probe?: (x: tf.Tensor4D) => tf.Tensor): NumericGradients {
  const rValues = r.dataSync() as Float32Array;
  const evaluate = (input: tf.Tensor4D): { loss: number; signs: string } => {
    const loss = dot64(
      tf.tidy(() => op.apply(input).dataSync() as Float32Array),
      rValues,
    );
    const signs = probe
      ? Array.from(
          tf.tidy(() => probe(input).dataSync()),
          (v) => (v > 0 ? '+' : '-'),
        ).join('')
      : '';
    return { loss, signs };
  };
  const grads = new Map<string, Float32Array>();
  const kinks = new Map<string, number[]>();
  const differentiate = (path: string, values: Float32Array, set: (v: Float32Array) => void, input: () => tf.Tensor4D) => {
    const g = new Float32Array(values.length);
    const flips: number[] = [];
    for (let i = 0; i < values.length; i++) {
      const original = values[i]!;
      values[i] = original + h;
      set(values);
      const plus = evaluate(input());
      values[i] = original - h;
      set(values);
      const minus = evaluate(input());
      values[i] = original;
      // The step actually taken in float32 (v ± h is rounded).
      const step = Math.fround(original + h) - Math.fround(original - h);
      g[i] = (plus.loss - minus.loss) / step;
      if (plus.signs !== minus.signs) flips.push(i);
    }
    set(values);
    grads.set(path, g);
    kinks.set(path, flips);
  };
  const xValues = (x.dataSync() as Float32Array).slice();
  let current = x;
  differentiate(
    'x',
    xValues,
    (v) => {
      if (current !== x) current.dispose();
      current = tf.tensor4d(v, x.shape);
    },
    () => current,
  );
  if (current !== x) current.dispose();
  for (const [path, variable] of op.namedParameters()) {
    const values = (variable.dataSync() as Float32Array).slice();
    differentiate(
      path,
      values,
      (v) => tf.tidy(() => variable.assign(tf.tensor(v, variable.shape))),
      () => x,
    );
  }
  return { grads, kinks };
}
