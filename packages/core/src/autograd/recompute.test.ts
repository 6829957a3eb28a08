import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { recomputeInBackward } from './recompute.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** A small two-input function with a variable: relu(x·w + y)² summed per row. */
function fn(w: tf.Variable) {
  return ([x, y]: readonly tf.Tensor[]) => tf.sum(tf.square(tf.relu(tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), y!))), 1);
}

describe('recomputeInBackward', () => {
  it('gives the gradients of the plain computation (inputs and variables), inside an outer gradient computation', () => {
    const w = tf.variable(tf.tensor2d([0.5, -1, 2, 0.25, 1.5, -0.5], [3, 2]), true, 'recompute_w');
    const x = tf.tensor2d([1, -2, 0.5, 3, 1, -1], [2, 3]);
    const y = tf.tensor2d([0.1, 0.2, -0.3, 0.4], [2, 2]);
    const calls = { before: 0, after: 0 };
    const hooks = { before: () => void calls.before++, after: () => void calls.after++ };
    const loss = (recompute: boolean) => (a: tf.Tensor, b: tf.Tensor) => {
      const out = recompute ? recomputeInBackward(fn(w), [a, b], [w], new Set(), hooks) : fn(w)([a, b]);
      return tf.sum(tf.mul(out, tf.tensor1d([1, 3])));
    };
    const grads = (recompute: boolean) => {
      const { grads: g } = tf.variableGrads(() => loss(recompute)(x, y) as tf.Scalar, [w]);
      const [gx, gy] = tf.grads(loss(recompute))([x, y]);
      return [g[w.name]!, gx!, gy!].map((t) => Array.from(t.dataSync()));
    };
    const plain = grads(false);
    const recomputed = grads(true);
    for (let i = 0; i < plain.length; i++) {
      recomputed[i]!.forEach((v, j) => expect(v).toBeCloseTo(plain[i]![j]!, 5));
    }
    // One recomputation per backward pass, wrapped by the hooks.
    expect(calls).toEqual({ before: 2, after: 2 });
    tf.dispose([x, y]);
    w.dispose();
  });

  it('gives zero for constant inputs and leaves no tensor behind', () => {
    const w = tf.variable(tf.ones([3, 2]), true, 'recompute_w2');
    const x = tf.ones([2, 3]);
    const y = tf.zeros([2, 2]);
    const tensors = tf.memory().numTensors;
    const [gx, gy] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(recomputeInBackward(fn(w), [a, b], [w], new Set([1]))))([x, y]);
    // d/dx Σ (x·w)² = 2·(x·w)·wᵀ = 2·3·[2, 2, 2] per row; y is declared constant: zero.
    expect(Array.from(gx!.dataSync())).toEqual([12, 12, 12, 12, 12, 12]);
    expect(Array.from(gy!.dataSync())).toEqual([0, 0, 0, 0]);
    tf.dispose([gx!, gy!]);
    expect(tf.memory().numTensors).toBe(tensors);
    tf.dispose([x, y]);
    w.dispose();
  });
});
