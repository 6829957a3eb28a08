import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useBackend } from './testing/backend.js';

/** d/dx Σ w·resize(x), by central differences (the map is linear, so they are exact up to rounding). */
function finiteDifference(x: number[], shape: [number, number, number, number], size: [number, number], w: tf.Tensor, halfPixel: boolean): number[] {
  const f = (values: number[]) => tf.tidy(() => tf.sum(tf.mul(tf.image.resizeBilinear(tf.tensor4d(values, shape), size, false, halfPixel), w)).dataSync()[0]!);
  return x.map((_, i) => {
    const plus = [...x];
    const minus = [...x];
    plus[i]! += 0.5;
    minus[i]! -= 0.5;
    return f(plus) - f(minus);
  });
}

describe('ResizeBilinear gradient', () => {
  const cases: { shape: [number, number, number, number]; size: [number, number]; halfPixel: boolean }[] = [
    { shape: [1, 6, 5, 1], size: [3, 4], halfPixel: true },
    { shape: [2, 3, 7, 2], size: [6, 13], halfPixel: true },
    { shape: [1, 4, 9, 3], size: [8, 5], halfPixel: false },
  ];
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const { shape, size, halfPixel } of cases) {
      it(`is the transpose of the forward on ${backend} for [${shape}] → ${size} (halfPixel ${halfPixel})`, async () => {
        await useBackend(backend);
        const count = shape.reduce((a, b) => a * b, 1);
        const x = Array.from({ length: count }, (_, i) => Math.sin(i * 0.7));
        const w = tf.tensor4d(
          Array.from({ length: shape[0] * size[0] * size[1] * shape[3] }, (_, i) => Math.cos(i * 1.3)),
          [shape[0], ...size, shape[3]],
        );
        const grad = tf.tidy(() =>
          Array.from(
            tf
              .grad((t: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeBilinear(t as tf.Tensor4D, size, false, halfPixel), w)))(tf.tensor4d(x, shape))
              .dataSync(),
          ),
        );
        const expected = finiteDifference(x, shape, size, w, halfPixel);
        grad.forEach((g, i) => expect(g).toBeCloseTo(expected[i]!, 4));
        w.dispose();
      });
    }
  }
});
