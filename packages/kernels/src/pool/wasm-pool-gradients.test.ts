import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backend.js';
import { TestRandom } from '../testing/random.js';
import { wasmMaxPoolGradIsExact } from './wasm-max-pool-grad.js';

type Pool = 'max' | 'avg';
interface Case {
  shape: [number, number, number, number];
  size: number | [number, number];
  stride: number;
  pad: 'same' | 'valid';
}

/**
 * The gradient of Σ pool(x)·r: r = 1 (each input gets the number of windows routing to it, exact
 * in any summation order) or random (each output routes its own weight).
 */
function poolGradient(pool: Pool, x: Float32Array, c: Case, weights: 'ones' | 'random' = 'random'): Float32Array {
  return tf.tidy(() => {
    const input = tf.tensor4d(x, c.shape);
    const f = (t: tf.Tensor4D) => (pool === 'max' ? tf.maxPool(t, c.size, c.stride, c.pad) : tf.avgPool(t, c.size, c.stride, c.pad));
    const y = f(input);
    const r = weights === 'ones' ? tf.onesLike(y) : tf.tensor(new TestRandom(3).normals(y.size), y.shape);
    return tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(f(t as tf.Tensor4D), r)))(input)
      .dataSync() as Float32Array;
  });
}

const CASES: Case[] = [
  { shape: [2, 9, 7, 8], size: 3, stride: 1, pad: 'same' },
  { shape: [1, 6, 6, 4], size: 3, stride: 1, pad: 'valid' },
  { shape: [2, 9, 8, 12], size: 3, stride: 2, pad: 'same' },
  { shape: [1, 7, 5, 4], size: [2, 3], stride: 1, pad: 'same' },
  { shape: [1, 5, 6, 3], size: 3, stride: 1, pad: 'same' }, // C not a multiple of 4: tfjs' kernel
];

describe('wasm pooling gradients', () => {
  it('MaxPoolGrad routes like the cpu backend (ties to the first maximum, all-negative windows included)', async () => {
    for (const c of CASES) {
      const rng = new TestRandom(c.shape[3]);
      // Values on a coarse grid (many ties inside windows) and blocks of negative values. tfjs-wasm's
      // own kernel (the C = 3 case) routes ties elsewhere: continuous values there.
      const ours = c.shape[3] % 4 === 0;
      const x = Float32Array.from({ length: c.shape.reduce((a, b) => a * b, 1) }, (_, i) => {
        const v = rng.normal() * 2;
        return (ours ? Math.round(v) / 2 : v) - (i % 17 < 6 ? 5 : 0);
      });
      await useBackend('cpu');
      const counts = poolGradient('max', x, c, 'ones');
      const expected = poolGradient('max', x, c);
      await useBackend('wasm');
      expect(wasmMaxPoolGradIsExact(tf.backend(), { shape: c.shape, dtype: 'float32' })).toBe(ours);
      // Routing: the same count at every input, bit for bit.
      expect(Array.from(poolGradient('max', x, c, 'ones')), JSON.stringify(c)).toEqual(Array.from(counts));
      // Weighted: the same up to float32 sums (the cpu backend adds in float64).
      const got = poolGradient('max', x, c);
      const worst = Math.max(...Array.from(got, (v, i) => Math.abs(v - expected[i]!)));
      expect(worst, JSON.stringify(c)).toBeLessThan(1e-6);
    }
  });

  it('AvgPoolGrad equals the cpu backend to float32 rounding (stride 1: a depthwise convolution; stride 2: tfjs)', async () => {
    for (const c of CASES) {
      const x = new TestRandom(7).normals(c.shape.reduce((a, b) => a * b, 1));
      await useBackend('cpu');
      const expected = poolGradient('avg', x, c);
      await useBackend('wasm');
      const got = poolGradient('avg', x, c);
      const worst = Math.max(...Array.from(got, (v, i) => Math.abs(v - expected[i]!)));
      expect(worst, JSON.stringify(c)).toBeLessThan(1e-6);
    }
  });
});
