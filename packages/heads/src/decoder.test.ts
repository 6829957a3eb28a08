import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import { DeepLabV3PlusDecoder } from './index.js';
import { gradientNorms, maxAbsDiff, randomTensor, randomiseState, refConvBnRelu } from './testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('DeepLabV3PlusDecoder', () => {
  it('counts parameters and multi-adds by hand', () => {
    const spec = { inChannels: 6, lowLevelChannels: 5, numClasses: 3, lowLevelFilters: 2, filters: 4 };
    // reduce: 5·2 + 4; refine1: 9·8·4 + 8; refine2: 9·4·4 + 8; logits 4·3 + 3.
    const expected = 14 + 296 + 152 + 15;
    const dec = new DeepLabV3PlusDecoder('d0', { ...spec, rng: new Rng(1) });
    expect(dec.parameterCount()).toBe(expected);
    expect(DeepLabV3PlusDecoder.parameterCount(spec)).toBe(expected);
    expect(DeepLabV3PlusDecoder.multiAdds(spec, 5, 4)).toBe(20 * (10 + 288 + 144 + 12));
    dec.dispose();
  });

  it('defaults to 48 low-level filters and 256 refinement filters', () => {
    const dec = new DeepLabV3PlusDecoder('d1', { inChannels: 2, lowLevelChannels: 2, numClasses: 2, rng: new Rng(1) });
    expect(dec.spec.lowLevelFilters).toBe(48);
    expect(dec.spec.filters).toBe(256);
    dec.dispose();
  });

  it('upsamples the encoder to the low-level size and matches a direct composition (eval mode)', () => {
    const dec = new DeepLabV3PlusDecoder('d2', { inChannels: 3, lowLevelChannels: 2, numClasses: 4, lowLevelFilters: 3, filters: 5, rng: new Rng(2) });
    randomiseState(dec, 3);
    dec.eval();
    const encoder = randomTensor([2, 5, 6, 3], 4);
    const low = randomTensor([2, 9, 11, 2], 5);
    const s = dec.stateDict();
    const reference = tf.tidy(() => {
      const up = tf.image.resizeBilinear(encoder, [9, 11], false, true);
      const y = tf.concat([up, refConvBnRelu(low, s, 'reduce')], 3);
      const r = refConvBnRelu(refConvBnRelu(y, s, 'refine1'), s, 'refine2');
      return tf.add(tf.conv2d(r, s.get('classifier/kernel') as tf.Tensor4D, 1, 'same'), s.get('classifier/bias')!);
    });
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => dec.apply(encoder, low));
    expect(out.shape).toEqual([2, 9, 11, 4]);
    expect(maxAbsDiff(out, reference)).toBeLessThan(1e-4);
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([encoder, low, reference]);
    dec.dispose();
  });

  it('every parameter receives a gradient', () => {
    const dec = new DeepLabV3PlusDecoder('d3', { inChannels: 3, lowLevelChannels: 2, numClasses: 2, lowLevelFilters: 2, filters: 3, rng: new Rng(6) });
    const encoder = randomTensor([2, 3, 3, 3], 7);
    const low = randomTensor([2, 5, 5, 2], 8);
    const target = randomTensor([2, 5, 5, 2], 9);
    const norms = gradientNorms(dec, () => tf.mean(tf.square(tf.sub(dec.apply(encoder, low), target))) as tf.Scalar);
    expect(norms.size).toBe(dec.parameters().length);
    for (const [path, norm] of norms) expect(norm, path).toBeGreaterThan(0);
    tf.dispose([encoder, low, target]);
    dec.dispose();
  });
});
