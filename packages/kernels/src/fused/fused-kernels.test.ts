import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backend.js';
import { TestRandom } from '../testing/random.js';
import { columnDot, edgeWeightedSum, hasFusedKernels, reluGrad, sgdStep } from './index.js';

describe('fused ReLU gradient', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`on ${backend}: dy where x > 0, else 0 (x = 0 included), as tf.grad of relu`, async () => {
      await useBackend(backend);
      expect(hasFusedKernels()).toBe(true);
      const rng = new TestRandom(5);
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
      await useBackend(backend);
      for (const [rows, groups, k, shared] of [
        [37, 3, 12, false],
        [37, 3, 12, true],
        [9, 2, 5, false],
        [9, 2, 5, true],
      ] as const) {
        const rng = new TestRandom(rows + k);
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

describe('edgeWeightedSum', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`on ${backend}: Σ_k w[k, e]·t_k[p, e, c] with per-edge and shared terms, as the formula (C = 8: SIMD on wasm; C = 5: tf ops)`, async () => {
      await useBackend(backend);
      for (const [c, kinds] of [
        [8, ['edge', 'shared', 'edge']],
        [8, ['shared', 'shared']],
        [8, ['edge']],
        [5, ['edge', 'shared']],
      ] as const) {
        const [p, e] = [7, 3];
        const rng = new TestRandom(11 + c + kinds.length);
        const terms = kinds.map((kind) => {
          const width = kind === 'edge' ? e : 1;
          return { width, values: Float32Array.from({ length: p * width * c }, () => rng.normal()) };
        });
        const w = Float32Array.from({ length: kinds.length * e }, () => rng.normal());
        const tensors = terms.map((t) => tf.tensor3d(t.values, [p, t.width, c]));
        const weights = tf.tensor2d(w, [kinds.length, e]);
        const result = edgeWeightedSum(weights, tensors);
        expect(result.shape).toEqual([p, e, c]);
        const values = result.dataSync();
        for (let i = 0; i < p; i++) {
          for (let j = 0; j < e; j++) {
            for (let k = 0; k < c; k++) {
              let expected = 0;
              terms.forEach((t, n) => (expected += w[n * e + j]! * t.values[(i * t.width + (t.width === 1 ? 0 : j)) * c + k]!));
              expect(values[(i * e + j) * c + k]!, `C ${c} ${kinds.join('+')} at ${i},${j},${k}`).toBeCloseTo(expected, 5);
            }
          }
        }
        tf.dispose([...tensors, weights, result]);
      }
    });
  }
});

describe('sgdStep', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`on ${backend}: the same bits as the op-by-op update (weight decay, momentum, Nesterov on and off)`, async () => {
      await useBackend(backend);
      const rng = new TestRandom(17);
      const values = (n: number, scale: number) => Float32Array.from({ length: n }, () => scale * rng.normal());
      const [w, g, v] = [tf.tensor(values(257, 1), [257]), tf.tensor(values(257, 0.1), [257]), tf.tensor(values(257, 0.3), [257])];
      for (const weightDecay of [0, 3e-4]) {
        for (const momentum of [0, 0.9]) {
          for (const nesterov of [false, true]) {
            const o = { learningRate: 0.025, momentum, weightDecay, nesterov };
            // The op-by-op reference: PyTorch's update, each step a float32 tf op.
            const expected = tf.tidy(() => {
              const gd = weightDecay > 0 ? tf.add(g, tf.mul(w, weightDecay)) : g;
              if (momentum === 0) return [tf.sub(w, tf.mul(gd, o.learningRate))];
              const vNew = tf.add(tf.mul(v, momentum), gd);
              const direction = nesterov ? tf.add(gd, tf.mul(vNew, momentum)) : vNew;
              return [tf.sub(w, tf.mul(direction, o.learningRate)), vNew];
            });
            const next = sgdStep(w, g, momentum > 0 ? v : undefined, o);
            const label = `wd ${weightDecay}, μ ${momentum}, nesterov ${nesterov}`;
            expect(Array.from(next.param.dataSync()), label).toEqual(Array.from(expected[0]!.dataSync()));
            if (momentum > 0) expect(Array.from(next.buffer!.dataSync()), label).toEqual(Array.from(expected[1]!.dataSync()));
            else expect(next.buffer).toBeUndefined();
            // A hand-checked entry: w − lr·(μ·v + g + wd·w) without Nesterov.
            if (momentum > 0 && !nesterov) {
              const [w0, g0, v0] = [w.dataSync()[0]!, g.dataSync()[0]!, v.dataSync()[0]!];
              expect(next.param.dataSync()[0]).toBeCloseTo(w0 - 0.025 * (0.9 * v0 + g0 + weightDecay * w0), 6);
            }
            tf.dispose([...expected, next.param, ...(next.buffer ? [next.buffer] : [])]);
          }
        }
      }
      tf.dispose([w, g, v]);
    });
  }
});
