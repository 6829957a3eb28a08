import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import { builtinGenotype } from '@autodeeplab/genotype';
import { buildNetwork, classPixelCounts, colourMask, overlayMask, segmentPixels } from './index.js';
import { TINY } from './testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('segmentPixels', () => {
  it('is the argmax of the forward on the normalised image, the same from RGB and RGBA', async () => {
    const network = buildNetwork(builtinGenotype('paper'), { filterMultiplier: 2, numClasses: 5, ...TINY, name: 'seg_a', seed: 1 }).eval();
    const preprocessing = { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };
    const [h, w] = [23, 30];
    const rng = new Rng(2);
    const rgb = Uint8Array.from({ length: h * w * 3 }, () => Math.floor(rng.uniform() * 256));
    const rgba = new Uint8Array(h * w * 4);
    for (let p = 0; p < h * w; p++) {
      rgba.set(rgb.subarray(3 * p, 3 * p + 3), 4 * p);
      rgba[4 * p + 3] = 17; // alpha plays no part
    }
    // The normalisation written out per value, then the forward and an argmax by hand.
    const normalised = Float32Array.from(rgb, (v, i) => (v / 255 - preprocessing.mean[i % 3]!) / preprocessing.std[i % 3]!);
    const x = tf.tensor4d(normalised, [1, h, w, 3]);
    const logits = network.forward(x).dataSync();
    tf.dispose(x);
    const expected = new Uint8Array(h * w);
    for (let p = 0; p < h * w; p++) {
      let best = 0;
      for (let c = 1; c < 5; c++) if (logits[5 * p + c]! > logits[5 * p + best]!) best = c;
      expected[p] = best;
    }
    const before = tf.memory().numTensors;
    const fromRgb = await segmentPixels(network, preprocessing, { data: rgb, height: h, width: w, channels: 3 });
    const fromRgba = await segmentPixels(network, preprocessing, { data: rgba, height: h, width: w, channels: 4 });
    expect(tf.memory().numTensors).toBe(before);
    const agree = fromRgb.filter((c, p) => c === expected[p]).length;
    expect(agree / (h * w)).toBeGreaterThanOrEqual(0.999);
    expect(fromRgba).toEqual(fromRgb);
    await expect(segmentPixels(network, preprocessing, { data: rgb, height: h, width: w + 1, channels: 3 })).rejects.toThrow(
      `image data has ${h * w * 3} values, expected ${h * (w + 1) * 3}`,
    );
    network.dispose();
  });
});

describe('colouring', () => {
  const palette = [
    [255, 0, 0],
    [0, 100, 200],
  ] as const;
  it('colours each class by the palette, black where the palette has no colour', () => {
    expect([...colourMask([0, 1, 2], palette)]).toEqual([255, 0, 0, 0, 100, 200, 0, 0, 0]);
    expect([...colourMask([1], palette, 4)]).toEqual([0, 100, 200, 255]);
  });
  it('blends the mask into the image at the opacity, keeping alpha', () => {
    const image = { data: Uint8Array.from([10, 20, 30, 40, 0, 255, 255, 99]), height: 1, width: 2, channels: 4 } as const;
    // 0.25·mask + 0.75·image, rounded: (0.75·10 + 0.25·255 = 71.25 → 71), …
    expect([...overlayMask(image, [0, 1], palette, 0.25)]).toEqual([71, 15, 23, 40, 0, 216, 241, 99]);
  });
  it('counts pixels per class', () => {
    expect(classPixelCounts([2, 0, 2, 2], 4)).toEqual([1, 0, 3, 0]);
  });
});
