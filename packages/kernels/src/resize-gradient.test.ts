import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useBackend } from './testing/backend.js';

/** Σ w·resize(x) on the current backend, read asynchronously (webgpu has no synchronous reads in Node). */
async function weightedSum(
  values: number[],
  shape: [number, number, number, number],
  size: [number, number],
  w: tf.Tensor,
  halfPixel: boolean,
): Promise<number> {
  const sum = tf.tidy(() => tf.sum(tf.mul(tf.image.resizeBilinear(tf.tensor4d(values, shape), size, false, halfPixel), w)));
  try {
    return (await sum.data())[0]!;
  } finally {
    sum.dispose();
  }
}

/** d/dx Σ w·resize(x), by central differences (the map is linear, so they are exact up to rounding). */
async function finiteDifference(
  x: number[],
  shape: [number, number, number, number],
  size: [number, number],
  w: tf.Tensor,
  halfPixel: boolean,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const plus = [...x];
    const minus = [...x];
    plus[i]! += 0.5;
    minus[i]! -= 0.5;
    out.push((await weightedSum(plus, shape, size, w, halfPixel)) - (await weightedSum(minus, shape, size, w, halfPixel)));
  }
  return out;
}

describe('ResizeBilinear gradient', () => {
  const cases: { shape: [number, number, number, number]; size: [number, number]; halfPixel: boolean }[] = [
    { shape: [1, 6, 5, 1], size: [3, 4], halfPixel: true },
    { shape: [2, 3, 7, 2], size: [6, 13], halfPixel: true },
    { shape: [1, 4, 9, 3], size: [8, 5], halfPixel: false },
  ];
  for (const backend of ['cpu', 'wasm', 'webgpu'] as const) {
    for (const { shape, size, halfPixel } of cases) {
      it(`is the transpose of the forward on ${backend} for [${shape}] → ${size} (halfPixel ${halfPixel})`, async () => {
        await useBackend(backend);
        const count = shape.reduce((a, b) => a * b, 1);
        const x = Array.from({ length: count }, (_, i) => Math.sin(i * 0.7));
        const w = tf.tensor4d(
          Array.from({ length: shape[0] * size[0] * size[1] * shape[3] }, (_, i) => Math.cos(i * 1.3)),
          [shape[0], ...size, shape[3]],
        );
        const before = tf.memory().numTensors;
        const gradient = tf.tidy(() =>
          tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeBilinear(t as tf.Tensor4D, size, false, halfPixel), w)))(tf.tensor4d(x, shape)),
        );
        const grad = Array.from(await gradient.data());
        gradient.dispose();
        expect(tf.memory().numTensors).toBe(before);
        const expected = await finiteDifference(x, shape, size, w, halfPixel);
        grad.forEach((g, i) => expect(g).toBeCloseTo(expected[i]!, 4));
        w.dispose();
      });
    }
  }
});
