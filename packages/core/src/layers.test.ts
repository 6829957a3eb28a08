import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { BatchNorm, Conv2d } from './layers.js';
import { Rng } from './rng.js';

describe('layers', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('Conv2d computes a hand-checked 1×1 and a 3×3 same convolution with bias', () => {
    const conv = new Conv2d('c1', { inChannels: 2, outChannels: 1, kernelSize: 1, bias: true, rng: new Rng(0) });
    conv.kernel.assign(tf.tensor4d([2, -1], [1, 1, 2, 1]));
    conv.bias!.assign(tf.tensor1d([0.5]));
    const x = tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]);
    // pixel 0: 2·1 − 1·2 + 0.5 = 0.5; pixel 1: 2·3 − 4 + 0.5 = 2.5
    expect(Array.from(conv.apply(x).dataSync())).toEqual([0.5, 2.5]);
    conv.dispose();

    const box = new Conv2d('c3', { inChannels: 1, outChannels: 1, kernelSize: 3, rng: new Rng(0) });
    box.kernel.assign(tf.ones([3, 3, 1, 1]));
    const ones = tf.ones([1, 3, 3, 1]) as tf.Tensor4D;
    // A 3×3 box filter over ones with zero padding counts the in-bounds neighbours.
    expect(Array.from(box.apply(ones).dataSync())).toEqual([4, 6, 4, 6, 9, 6, 4, 6, 4]);
    box.dispose();
  });

  it('Conv2d initialises with He-normal statistics', () => {
    const conv = new Conv2d('he', { inChannels: 64, outChannels: 64, kernelSize: 3, rng: new Rng(3) });
    const values = Array.from(conv.kernel.dataSync());
    const variance = values.reduce((a, v) => a + v * v, 0) / values.length;
    expect(variance).toBeGreaterThan((2 / (9 * 64)) * 0.95);
    expect(variance).toBeLessThan((2 / (9 * 64)) * 1.05);
    conv.dispose();
  });

  it('depthwise Conv2d applies one filter per channel', () => {
    const conv = new Conv2d('dw', { inChannels: 2, outChannels: 2, kernelSize: 1, depthwise: true, rng: new Rng(0) });
    expect(conv.kernel.shape).toEqual([1, 1, 2, 1]);
    conv.kernel.assign(tf.tensor4d([3, -2], [1, 1, 2, 1]));
    const y = conv.apply(tf.tensor4d([1, 1, 2, 5], [1, 1, 2, 2]));
    expect(Array.from(y.dataSync())).toEqual([3, -2, 6, -10]);
    conv.dispose();
  });

  it('BatchNorm normalises with batch statistics in training and updates running statistics', () => {
    const bn = new BatchNorm('bn', { channels: 1, momentum: 0.1 });
    const x = tf.tensor4d([1, 2, 3, 6], [1, 2, 2, 1]);
    const y = bn.apply(x).dataSync();
    const mean = 3;
    const variance = (4 + 1 + 0 + 9) / 4; // biased, used for normalisation
    const expected = [1, 2, 3, 6].map((v) => (v - mean) / Math.sqrt(variance + 1e-5));
    y.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    const unbiased = (4 + 1 + 0 + 9) / 3;
    expect(bn.runningMean.dataSync()[0]).toBeCloseTo(0.9 * 0 + 0.1 * mean, 6);
    expect(bn.runningVar.dataSync()[0]).toBeCloseTo(0.9 * 1 + 0.1 * unbiased, 6);
    bn.eval();
    const z = bn.apply(tf.tensor4d([0.3], [1, 1, 1, 1])).dataSync()[0]!;
    expect(z).toBeCloseTo((0.3 - 0.3) / Math.sqrt(0.9 + 0.1 * unbiased + 1e-5), 6);
    bn.dispose();
  });

  it('BatchNorm without affine has no parameters, keeps buffers and passes gradients', () => {
    const before = tf.memory().numTensors;
    const bn = new BatchNorm('bn-na', { channels: 1, affine: false });
    expect(bn.parameterCount()).toBe(0);
    expect(bn.namedBuffers().size).toBe(2);
    // d/dx Σ w·BN(x) for x = [1, 2, 3, 6], w = [1, 0, 0, 0]: (w − mean(w) − x̂·mean(w·x̂)) / σ.
    const values = [1, 2, 3, 6];
    const w = [1, 0, 0, 0];
    const mean = 3;
    const sigma = Math.sqrt(14 / 4 + 1e-5);
    const xhat = values.map((v) => (v - mean) / sigma);
    const meanW = 0.25;
    const meanWx = xhat[0]! / 4;
    const expected = values.map((_, i) => (w[i]! - meanW - xhat[i]! * meanWx) / sigma);
    const g = tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) => tf.sum(tf.mul(bn.apply(x as tf.Tensor4D), tf.tensor4d(w, [1, 2, 2, 1]))))(tf.tensor4d(values, [1, 2, 2, 1]))
        .dataSync(),
    );
    Array.from(g).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
    bn.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a training step through Conv2d and BatchNorm does not leak tensors', () => {
    const rng = new Rng(0);
    const conv = new Conv2d('leak/conv', { inChannels: 2, outChannels: 2, kernelSize: 3, rng });
    const bn = new BatchNorm('leak/bn', { channels: 2 });
    const x = tf.tensor4d(rng.normals(2 * 5 * 5 * 2), [2, 5, 5, 2]);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(bn.apply(conv.apply(x)))) as tf.Scalar);
      value.dispose();
      tf.dispose(grads);
    };
    step();
    const after1 = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(after1);
    conv.dispose();
    bn.dispose();
    x.dispose();
  });
});
