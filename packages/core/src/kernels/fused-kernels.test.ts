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
    it(`on ${backend}: Σ over rows of a·b per group and column, b per group or shared, as a float64 sum (K = 12: SIMD on wasm; K = 5: loop)`, async () => {
      await initBackend({ backend });
      for (const [rows, groups, k, shared] of [
        [37, 3, 12, false],
        [37, 3, 12, true],
        [9, 2, 5, false],
        [9, 2, 5, true],
      ] as const) {
        const rng = new Rng(rows + k);
        const bGroups = shared ? 1 : groups;
        const a = Float32Array.from({ length: rows * groups * k }, () => rng.normal());
        const b = Float32Array.from({ length: rows * bGroups * k }, () => rng.normal());
        const expected: number[] = [];
        for (let e = 0; e < groups; e++) {
          for (let j = 0; j < k; j++) {
            let s = 0;
            for (let r = 0; r < rows; r++) s += a[(r * groups + e) * k + j]! * b[(r * bGroups + (shared ? 0 : e)) * k + j]!;
            expected.push(s);
          }
        }
        const [ta, tb] = [tf.tensor3d(a, [rows, groups, k]), tf.tensor3d(b, [rows, bGroups, k])];
        const result = columnDot(ta, tb);
        expect(result.shape).toEqual([groups, k]);
        Array.from(result.dataSync()).forEach((v, i) => expect(Math.abs(v - expected[i]!), `entry ${i}`).toBeLessThan(1e-4 * Math.sqrt(rows)));
        tf.dispose([ta, tb, result]);
      }
    });
  }
});
