import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backend.js';

/**
 * Gradient of sum(maxPool(x)) for a 3×3 'same' pool: each output routes 1 to its window's maximum.
 * Read asynchronously: webgpu has no synchronous reads in Node.
 */
async function poolGradient(values: number[], shape: [number, number, number, number], stride: 1 | 2): Promise<number[]> {
  const gradient = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.maxPool(x as tf.Tensor4D, 3, stride, 'same')))(tf.tensor4d(values, shape)));
  try {
    return Array.from(await gradient.data());
  } finally {
    gradient.dispose();
  }
}

describe('MaxPool gradient', () => {
  for (const backend of ['cpu', 'wasm', 'webgpu'] as const) {
    it(`routes the gradient to each window's maximum on ${backend}, also when all values are negative`, async () => {
      await useBackend(backend);
      const negative = [-1, -2, -3, -4, -5, -6, -7, -8, -9];
      // By hand: windows around (0,0),(0,1),(1,0),(1,1) peak at −1; (0,2),(1,2) at −2; (2,0),(2,1) at −4; (2,2) at −5.
      expect(await poolGradient(negative, [1, 3, 3, 1], 1)).toEqual([4, 2, 0, 2, 1, 0, 0, 0, 0]);
      // Stride 2 on 3×3 'same': outputs at (0,0),(0,2),(2,0),(2,2) → maxima −1, −2, −4, −5.
      expect(await poolGradient(negative, [1, 3, 3, 1], 2)).toEqual([1, 1, 0, 1, 1, 0, 0, 0, 0]);
      const mixed = [3, -2, 0.5, -7, 8, -1, 2, -4, -6];
      expect(await poolGradient(mixed, [1, 3, 3, 1], 1)).toEqual([0, 0, 0, 0, 9, 0, 0, 0, 0]);
    });
  }

  // Distinct values (no ties), so every backend must route each window to the same pixel: exact equality.
  for (const backend of ['wasm', 'webgpu'] as const) {
    it(`agrees between ${backend} and cpu on random inputs of both signs (odd 7×9 and 9×9, strides 1 and 2)`, async () => {
      const shapes: [number, number, number, number][] = [
        [2, 7, 6, 3],
        [1, 7, 9, 2],
        [1, 9, 9, 2],
      ];
      const inputs = shapes.map((shape) =>
        Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => ((Math.sin(i * 12.9898) * 43758.5453) % 1) - 0.6),
      );
      const gradients = async () => {
        const out: number[][] = [];
        for (const [k, shape] of shapes.entries()) for (const stride of [1, 2] as const) out.push(await poolGradient(inputs[k]!, shape, stride));
        return out;
      };
      await useBackend('cpu');
      const cpu = await gradients();
      await useBackend(backend);
      expect(await gradients()).toEqual(cpu);
    });
  }
});
