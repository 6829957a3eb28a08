import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import { ASPP, ASPP_RATES_OS8 } from './index.js';
import { gradientNorms, maxAbsDiff, randomTensor, randomiseState, refConvBnRelu } from './testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('ASPP (final form)', () => {
  it('defaults to 256 filters and rates 12/24/36 (output stride 8)', () => {
    const aspp = new ASPP('a0', { inChannels: 3, rng: new Rng(1) });
    expect(aspp.spec.filters).toBe(256);
    expect([...ASPP_RATES_OS8]).toEqual([12, 24, 36]);
    expect(aspp.spec.rates).toEqual([12, 24, 36]);
    expect(aspp.branches.map((b) => b.conv.spec.dilation)).toEqual([1, 12, 24, 36]);
    aspp.dispose();
  });

  it('counts parameters by hand', () => {
    const spec = { inChannels: 4, filters: 5, rates: [1, 2] };
    // 1×1: 4·5 + 10; two 3×3: 2·(9·4·5 + 10); pooling: 4·5 + 10; projection: 4 branches·5 → 5: 20·5 + 10.
    const expected = 30 + 2 * 190 + 30 + 110;
    const aspp = new ASPP('a1', { ...spec, rng: new Rng(1) });
    expect(aspp.parameterCount()).toBe(expected);
    expect(ASPP.parameterCount(spec)).toBe(expected);
    // Multi-adds on 6×7: 42·20 + 2·42·180 + 20 + 42·100.
    expect(ASPP.multiAdds(spec, 6, 7)).toBe(42 * 20 + 2 * 42 * 180 + 20 + 42 * 100);
    // As TensorFlow 1.x runs them: rate 1 on 6×7, rate 2 on space-to-batch phases padded to 6×8.
    expect(ASPP.multiAdds(spec, 6, 7, { spaceToBatchAtrous: true })).toBe(42 * 20 + 42 * 180 + 48 * 180 + 20 + 42 * 100);
    aspp.dispose();
  });

  it('matches a direct composition of tfjs ops (eval mode), without leaks', () => {
    const aspp = new ASPP('a2', { inChannels: 3, filters: 4, rates: [2, 3, 5], rng: new Rng(2) });
    randomiseState(aspp, 3);
    aspp.eval();
    const x = randomTensor([2, 10, 9, 3], 4);
    const s = aspp.stateDict();
    const reference = tf.tidy(() => {
      const branches = [
        refConvBnRelu(x, s, 'conv1x1'),
        refConvBnRelu(x, s, 'atrous1', 2),
        refConvBnRelu(x, s, 'atrous2', 3),
        refConvBnRelu(x, s, 'atrous3', 5),
      ];
      const pooled = refConvBnRelu(tf.mean(x, [1, 2], true) as tf.Tensor4D, s, 'pooling/unit');
      branches.push(tf.mul(pooled, tf.ones([2, 10, 9, 1])) as tf.Tensor4D);
      return refConvBnRelu(tf.concat(branches, 3), s, 'projection');
    });
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => aspp.apply(x));
    expect(out.shape).toEqual([2, 10, 9, 4]);
    expect(maxAbsDiff(out, reference)).toBeLessThan(1e-4);
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, reference]);
    aspp.dispose();
  });

  it('every parameter receives a gradient (needs the dilated-conv gradient from core)', () => {
    const aspp = new ASPP('a3', { inChannels: 3, filters: 4, rates: [2, 3], rng: new Rng(5) });
    const x = randomTensor([2, 6, 6, 3], 6);
    const target = randomTensor([2, 6, 6, 4], 7);
    const norms = gradientNorms(aspp, () => tf.mean(tf.square(tf.sub(aspp.apply(x), target))) as tf.Scalar);
    for (const [path, norm] of norms) expect(norm, path).toBeGreaterThan(0);
    tf.dispose([x, target]);
    aspp.dispose();
  });

  it('rejects bad rates with a clear error', () => {
    expect(() => new ASPP('a4', { inChannels: 3, rates: [0, 2], rng: new Rng(1) })).toThrow(/rates must be positive integers/);
  });
});
