import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import { SearchASPP } from './index.js';
import { gradientNorms, randomTensor } from './testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** Randomises every parameter and buffer so that BN statistics and biases matter in the reference. */
function randomise(module: SearchASPP, seed: number): void {
  const rng = new Rng(seed);
  const state = new Map<string, tf.Tensor>();
  for (const [path, v] of module.stateDict()) {
    const values = rng.normals(v.size, 0.5);
    if (path.endsWith('running_var')) for (let i = 0; i < values.length; i++) values[i] = 0.5 + Math.abs(values[i]!);
    state.set(path, tf.tensor(values, v.shape));
  }
  module.loadStateDict(state);
  for (const t of state.values()) t.dispose();
}

describe('SearchASPP', () => {
  it('counts parameters by hand for a small spec', () => {
    const head = new SearchASPP('t0', { inChannels: 8, scale: 16, numClasses: 3, rng: new Rng(1) });
    // 1×1: 8·8 + BN 16; 3×3: 9·8·8 + 16; pooling 1×1 with bias: 64 + 8; classifier 24·3 + 3.
    const expected = 64 + 16 + (576 + 16) + (64 + 8) + (72 + 3);
    expect(head.parameterCount()).toBe(expected);
    expect(SearchASPP.parameterCount({ inChannels: 8, scale: 16, numClasses: 3 })).toBe(expected);
    expect(head.spec.rate).toBe(6);
    head.dispose();
  });

  it('matches a direct composition of tfjs ops (eval mode) and keeps the input size', () => {
    const head = new SearchASPP('t1', { inChannels: 6, scale: 16, numClasses: 4, rng: new Rng(2), poolingBatchNorm: true });
    randomise(head, 3);
    head.eval();
    const x = tf.tensor4d(new Rng(4).normals(2 * 9 * 11 * 6), [2, 9, 11, 6]);
    const p = (path: string) => head.stateDict().get(path)!;
    const bn = (y: tf.Tensor, prefix: string) =>
      tf.batchNorm(y, p(`${prefix}/running_mean`), p(`${prefix}/running_var`), p(`${prefix}/beta`), p(`${prefix}/gamma`), 1e-5);
    const reference = tf.tidy(() => {
      const b1 = tf.relu(bn(tf.conv2d(x, p('conv1x1/conv/kernel') as tf.Tensor4D, 1, 'same'), 'conv1x1/bn'));
      const b2 = tf.relu(bn(tf.conv2d(x, p('atrous/conv/kernel') as tf.Tensor4D, 1, 'same', 'NHWC', 6), 'atrous/bn'));
      const pooled = tf.mean(x, [1, 2], true) as tf.Tensor4D;
      const b3small = tf.relu(bn(tf.conv2d(pooled, p('pooling/unit/conv/kernel') as tf.Tensor4D, 1, 'same'), 'pooling/unit/bn'));
      const b3 = tf.mul(b3small, tf.ones([2, 9, 11, 1]));
      const cat = tf.concat([b1, b2, b3], 3);
      return tf.add(tf.conv2d(cat as tf.Tensor4D, p('classifier/kernel') as tf.Tensor4D, 1, 'same'), p('classifier/bias'));
    });
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => head.apply(x as tf.Tensor4D));
    expect(out.shape).toEqual([2, 9, 11, 4]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(out, reference))).dataSync()[0]!);
    expect(diff).toBeLessThan(1e-4);
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    reference.dispose();
    x.dispose();
    head.dispose();
  });

  it('the atrous branch spreads one input pixel to exactly the 3×3 grid of spacing 96/s', () => {
    // s = 32: rate 3. An impulse at (6, 6) reaches the outputs at distance 0 and ±3 only.
    const head = new SearchASPP('t2', { inChannels: 2, scale: 32, numClasses: 2, rng: new Rng(5) });
    const impulse = tf.buffer([1, 13, 13, 2]);
    impulse.set(1, 0, 6, 6, 0);
    impulse.set(-2, 0, 6, 6, 1);
    const mag = tf.tidy(() => tf.sum(tf.abs(head.atrous.conv.apply(impulse.toTensor() as tf.Tensor4D)), [0, 3]).arraySync() as number[][]);
    for (let i = 0; i < 13; i++) {
      for (let j = 0; j < 13; j++) {
        const onGrid = [3, 6, 9].includes(i) && [3, 6, 9].includes(j);
        if (onGrid) expect(mag[i]![j]!).toBeGreaterThan(0);
        else expect(mag[i]![j]!).toBe(0);
      }
    }
    head.dispose();
  });

  it('every parameter receives a gradient (train mode, batch 2; needs the dilated-conv gradient from core)', () => {
    const head = new SearchASPP('t3', { inChannels: 4, scale: 8, numClasses: 3, rng: new Rng(7) });
    const x = randomTensor([2, 7, 7, 4], 8);
    const target = randomTensor([2, 7, 7, 3], 9);
    const norms = gradientNorms(head, () => tf.mean(tf.square(tf.sub(head.apply(x), target))) as tf.Scalar);
    expect(norms.size).toBe(head.parameters().length);
    for (const [path, norm] of norms) expect(norm, path).toBeGreaterThan(0);
    tf.dispose([x, target]);
    head.dispose();
  });

  it('rejects a scale that does not divide 96 and a wrong input width', () => {
    expect(() => new SearchASPP('t4', { inChannels: 4, scale: 64, numClasses: 3, rng: new Rng(1) })).toThrow(/scale/);
    const head = new SearchASPP('t5', { inChannels: 4, scale: 8, numClasses: 3, rng: new Rng(1) });
    expect(() => head.apply(tf.zeros([1, 4, 4, 5]))).toThrow(/5 channels, expected 4/);
    head.dispose();
  });
});
