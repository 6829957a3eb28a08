import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import { softmaxCrossEntropy } from './loss.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const logitValues = [
  [2, 0, -1],
  [0.5, 0.5, 0.5],
  [-1, 3, 0],
  [1, 2, 3],
];

function logSoftmax(row: number[]): number[] {
  const max = Math.max(...row);
  const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
  return row.map((x) => x - lse);
}

describe('softmaxCrossEntropy', () => {
  it('is the mean −log p(label) over non-ignored pixels', () => {
    const logits = tf.tensor4d(logitValues.flat(), [1, 2, 2, 3]);
    const labels = tf.tensor3d([0, 255, 1, 2], [1, 2, 2], 'int32');
    const loss = softmaxCrossEntropy(logits, labels);
    const expected = -(logSoftmax(logitValues[0]!)[0]! + logSoftmax(logitValues[2]!)[1]! + logSoftmax(logitValues[3]!)[2]!) / 3;
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
    tf.dispose([logits, labels, loss]);
  });

  it('has gradient (softmax − onehot)/count on valid pixels and 0 on ignored ones', () => {
    const logits = tf.tensor4d(logitValues.flat(), [1, 2, 2, 3]);
    const labels = tf.tensor3d([0, 255, 1, 2], [1, 2, 2], 'int32');
    const grad = tf.grad((x: tf.Tensor) => softmaxCrossEntropy(x as tf.Tensor4D, labels))(logits);
    const got = grad.dataSync();
    const target = [0, -1, 1, 2];
    logitValues.forEach((row, p) => {
      const probs = logSoftmax(row).map(Math.exp);
      row.forEach((_, k) => {
        const expected = target[p] === -1 ? 0 : (probs[k]! - (k === target[p] ? 1 : 0)) / 3;
        expect(got[p * 3 + k]).toBeCloseTo(expected, 5);
      });
    });
    tf.dispose([logits, labels, grad]);
  });

  it('is 0 with zero gradient, not NaN, when every pixel is ignored', () => {
    const logits = tf.tensor4d(logitValues.flat(), [1, 2, 2, 3]);
    const labels = tf.fill([1, 2, 2], 255, 'int32') as tf.Tensor3D;
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => softmaxCrossEntropy(x as tf.Tensor4D, labels))(logits);
    expect(value.dataSync()[0]).toBe(0);
    expect(Array.from(grad.dataSync()).every((x) => x === 0)).toBe(true);
    tf.dispose([logits, labels, value, grad]);
  });

  it('resizes logits to the label size', () => {
    const logits = tf.zeros([1, 2, 2, 4]) as tf.Tensor4D;
    const labels = tf.zeros([1, 4, 4], 'int32') as tf.Tensor3D;
    const loss = softmaxCrossEntropy(logits, labels);
    expect(loss.dataSync()[0]).toBeCloseTo(Math.log(4), 5);
    tf.dispose([logits, labels, loss]);
  });
});
