import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import { ConfusionMatrix } from './confusion.js';
import { evaluate } from './evaluate.js';
import { memoryBatchSource } from './memory-source.js';
import type { SegmentationModel } from './types.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

// Ground truth and prediction over 8 pixels, 4 classes: one ignored pixel (predicted 3, which must
// not count), class 3 absent from both, class 2 present in ground truth but never predicted.
const LABELS = [0, 0, 1, 1, 255, 2, 0, 1];
const PREDICTIONS = [0, 1, 1, 1, 3, 0, 0, 2];

describe('ConfusionMatrix', () => {
  it('agrees with a hand-computed matrix, IoUs, mIoU and pixel accuracy', () => {
    const m = new ConfusionMatrix(4).update(PREDICTIONS, LABELS);
    // rows = ground truth: 0 → {0: 2, 1: 1}; 1 → {1: 2, 2: 1}; 2 → {0: 1}
    expect(Array.from(m.counts)).toEqual([2, 1, 0, 0, 0, 2, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    const metrics = m.metrics();
    // class 0: tp 2, union 3 + 3 − 2 = 4; class 1: tp 2, union 3 + 3 − 2 = 4; class 2: tp 0, union 1 + 1;
    // class 3: union 0 → not counted.
    expect(metrics.perClassIoU).toEqual([0.5, 0.5, 0, null]);
    expect(metrics.mIoU).toBeCloseTo(1 / 3, 12);
    expect(metrics.pixelAccuracy).toBeCloseTo(4 / 7, 12);
    expect(metrics.pixels).toBe(7);
  });

  it('accumulates over updates and merges', () => {
    const a = new ConfusionMatrix(4).update(PREDICTIONS.slice(0, 4), LABELS.slice(0, 4));
    a.update(PREDICTIONS.slice(4), LABELS.slice(4));
    const b = new ConfusionMatrix(4).merge(a);
    expect(Array.from(b.counts)).toEqual(Array.from(new ConfusionMatrix(4).update(PREDICTIONS, LABELS).counts));
  });

  it('rejects labels and predictions out of range', () => {
    expect(() => new ConfusionMatrix(3).update([0], [7])).toThrow(/label 7 at pixel 0 is outside 0..2/);
    expect(() => new ConfusionMatrix(3).update([5], [1])).toThrow(/prediction 5/);
  });

  it('reports 0, not NaN, when nothing was counted', () => {
    const metrics = new ConfusionMatrix(2).update([1], [255]).metrics();
    expect(metrics).toMatchObject({ mIoU: 0, pixelAccuracy: 0, pixels: 0, perClassIoU: [null, null] });
  });
});

/** A model that ignores its input and predicts fixed logits (at whatever size it is asked). */
function fixedModel(logitsFor: (height: number, width: number) => number[][]): SegmentationModel {
  return {
    forward: (x) => {
      const [n, h, w] = x.shape;
      const perPixel = logitsFor(h, w);
      return tf.tile(tf.tensor4d(perPixel.flat(), [1, h, w, perPixel[0]!.length]), [n, 1, 1, 1]) as tf.Tensor4D;
    },
    eval: () => undefined,
    train: () => undefined,
  };
}

describe('evaluate', () => {
  it('builds the same confusion matrix as the hand-computed case (two images, batch 1)', async () => {
    // Image 1 holds pixels 0..3 (2×2), image 2 pixels 4..7; the model predicts PREDICTIONS via one-hot logits.
    const oneHot = (k: number) => [0, 1, 2, 3].map((c) => (c === k ? 5 : 0));
    let call = 0;
    const model: SegmentationModel = {
      forward: (x) => {
        const part = PREDICTIONS.slice(call * 4, call * 4 + 4);
        call++;
        return tf.tensor4d(part.map(oneHot).flat(), [x.shape[0], 2, 2, 4]);
      },
      eval: () => undefined,
      train: () => undefined,
    };
    const samples = [0, 1].map((i) => ({
      image: new Float32Array(12),
      label: Int32Array.from(LABELS.slice(i * 4, i * 4 + 4)),
      height: 2,
      width: 2,
    }));
    const before = tf.memory().numTensors;
    const result = await evaluate({ model, data: memoryBatchSource(samples, { batchSize: 1, shuffle: false }), numClasses: 4 });
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(result.confusion.counts)).toEqual(Array.from(new ConfusionMatrix(4).update(PREDICTIONS, LABELS).counts));
    expect(result.mIoU).toBeCloseTo(1 / 3, 12);
    expect(result.pixelAccuracy).toBeCloseTo(4 / 7, 12);
    expect(result.images).toBe(2);
  });

  it('averages flipped predictions when asked', async () => {
    // Pixel 0 prefers class 0 strongly, pixel 1 class 1 weakly: flip-averaging makes both class 0.
    const model = fixedModel(() => [
      [2, 0],
      [0, 1],
    ]);
    const data = memoryBatchSource([{ image: new Float32Array(6), label: Int32Array.from([0, 1]), height: 1, width: 2 }], { batchSize: 1 });
    const plain = await evaluate({ model, data, numClasses: 2 });
    expect(plain.pixelAccuracy).toBe(1);
    const flipped = await evaluate({ model, data, numClasses: 2, flip: true });
    expect(Array.from(flipped.confusion.counts)).toEqual([1, 0, 1, 0]);
  });

  it('averages softmax outputs over scales', async () => {
    // At the original size the model says class 0 (p = 0.73); at twice the size class 1 (p = 0.95).
    const model = fixedModel((h, w) => Array.from({ length: h * w }, () => (h > 1 ? [0, 3] : [1, 0])));
    const data = memoryBatchSource([{ image: new Float32Array(3), label: Int32Array.from([1]), height: 1, width: 1 }], { batchSize: 1 });
    expect((await evaluate({ model, data, numClasses: 2 })).pixelAccuracy).toBe(0);
    expect((await evaluate({ model, data, numClasses: 2, scales: [1, 2] })).pixelAccuracy).toBe(1);
  });
});
