import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { Rng } from '../rng.js';
import { columnDot, hasFusedKernels, reluGrad } from './fused-kernels.js';

describe('fused ReLU gradient', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`on ${backend}: dy where x > 0, else 0 (x = 0 included), as tf.grad of relu`, async () => {
      await initBackend({ backend });
      expect(hasFusedKernels()).toBe(true);
      const rng = new Rng(5);
      const xs = Float32Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? 0 : rng.normal()));
      const dys = Float32Array.from({ length: 300 }, () => rng.normal());
      const x = tf.tensor2d(xs, [30, 10]);
      const dy = tf.tensor2d(dys, [30, 10]);
      const expected = Array.from(xs, (v, i) => (v > 0 ? dys[i]! : 0));
      expect(Array.from(reluGrad(dy, x).dataSync())).toEqual(expected);
      // tf.relu's registered gradient goes through it.
      const viaGrad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), dy)))(x);
      expect(Array.from(viaGrad.dataSync())).toEqual(expected);
      // Second derivative: d/dx of Σ relu'(x)·dy·w is 0 almost everywhere.
      const second = tf.grad((t: tf.Tensor) => tf.sum(tf.grad((u: tf.Tensor) => tf.sum(tf.mul(tf.relu(u), dy)))(t)))(x);
      expect(Array.from(second.dataSync()).every((v) => v === 0)).toBe(true);
      tf.dispose([x, dy, viaGrad, second]);
    });
  }
});

describe('columnDot', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`on ${backend}: Σ over rows of a·b per column, as a float64 sum (K = 12: SIMD on wasm; K = 5: loop)`, async () => {
      await initBackend({ backend });
      for (const [rows, k] of [
        [37, 12],
        [9, 5],
      ] as const) {
        const rng = new Rng(rows);
        const a = Float32Array.from({ length: rows * k }, () => rng.normal());
        const b = Float32Array.from({ length: rows * k }, () => rng.normal());
        const expected = Array.from({ length: k }, (_, j) => {
          let s = 0;
          for (let r = 0; r < rows; r++) s += a[r * k + j]! * b[r * k + j]!;
          return s;
        });
        const [ta, tb] = [tf.tensor3d(a, [rows, 1, k]), tf.tensor3d(b, [rows, 1, k])];
        const got = Array.from(columnDot(ta, tb).dataSync());
        got.forEach((v, j) => expect(Math.abs(v - expected[j]!), `column ${j}`).toBeLessThan(1e-4 * Math.sqrt(rows)));
        tf.dispose([ta, tb]);
      }
    });
  }
});
