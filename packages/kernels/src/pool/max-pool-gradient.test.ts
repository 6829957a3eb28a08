import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backend.js';

/** Gradient of sum(maxPool(x)) for a 3×3 'same' pool: each output routes 1 to its window's maximum. */
function poolGradient(values: number[], shape: [number, number, number, number], stride: 1 | 2): number[] {
  return tf.tidy(() =>
    Array.from(
      tf
        .grad((x: tf.Tensor) => tf.sum(tf.maxPool(x as tf.Tensor4D, 3, stride, 'same')))(tf.tensor4d(values, shape))
        .dataSync(),
    ),
  );
}

describe('MaxPool gradient', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`routes the gradient to each window's maximum on ${backend}, also when all values are negative`, async () => {
      await useBackend(backend);
      const negative = [-1, -2, -3, -4, -5, -6, -7, -8, -9];
      // By hand: windows around (0,0),(0,1),(1,0),(1,1) peak at −1; (0,2),(1,2) at −2; (2,0),(2,1) at −4; (2,2) at −5.
      expect(poolGradient(negative, [1, 3, 3, 1], 1)).toEqual([4, 2, 0, 2, 1, 0, 0, 0, 0]);
      // Stride 2 on 3×3 'same': outputs at (0,0),(0,2),(2,0),(2,2) → maxima −1, −2, −4, −5.
      expect(poolGradient(negative, [1, 3, 3, 1], 2)).toEqual([1, 1, 0, 1, 1, 0, 0, 0, 0]);
      const mixed = [3, -2, 0.5, -7, 8, -1, 2, -4, -6];
      expect(poolGradient(mixed, [1, 3, 3, 1], 1)).toEqual([0, 0, 0, 0, 9, 0, 0, 0, 0]);
    });
  }

  it('agrees between wasm and cpu on random inputs of both signs', async () => {
    const values = Array.from({ length: 2 * 7 * 6 * 3 }, (_, i) => ((Math.sin(i * 12.9898) * 43758.5453) % 1) - 0.6);
    await useBackend('cpu');
    const cpu = poolGradient(values, [2, 7, 6, 3], 2);
    await useBackend('wasm');
    expect(poolGradient(values, [2, 7, 6, 3], 2)).toEqual(cpu);
  });
});
