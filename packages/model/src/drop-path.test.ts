import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import { builtinGenotype, type Genotype } from '@autodeeplab/genotype';
import { dropPath, dropPathKeepProbability } from './drop-path.js';
import { buildNetwork, type BuildNetworkOptions } from './index.js';
import { TINY, maxAbsDiff, randomImages } from './testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const options: BuildNetworkOptions = { filterMultiplier: 2, numClasses: 3, ...TINY, seed: 5 };
const paperShort = (): Genotype => ({ ...builtinGenotype('paper'), path: [4, 4, 8] });

/** Train-mode logits (batch statistics, so repeated passes give the same values). */
function trainLogits(network: ReturnType<typeof buildNetwork>, x: tf.Tensor4D): tf.Tensor4D {
  return network.train().forward(x);
}

describe('scheduled drop-path (official NASBaseCell._apply_drop_path)', () => {
  it('the keep probability follows 1 − t·(1 − p_l), p_l = 1 − (i+1)/L·(1 − p), at a few steps', () => {
    // p = 0.7, L = 12 cells, hand-computed.
    expect(dropPathKeepProbability(0.7, 11, 12, 0)).toBe(1);
    expect(dropPathKeepProbability(0.7, 11, 12, 1)).toBeCloseTo(0.7, 12);
    expect(dropPathKeepProbability(0.7, 0, 12, 1)).toBeCloseTo(0.975, 12);
    expect(dropPathKeepProbability(0.7, 5, 12, 0.5)).toBeCloseTo(0.925, 12); // p_l = 0.85
    expect(dropPathKeepProbability(0.7, 2, 12, 0.25)).toBeCloseTo(1 - 0.25 * 0.075, 12); // p_l = 0.925
    expect(dropPathKeepProbability(0.7, 11, 12, 3)).toBeCloseTo(0.7, 12); // min(1, step / total)

    const network = buildNetwork(builtinGenotype('paper'), { ...options, name: 'dp_schedule', dropPathKeepProb: 0.7 });
    expect(network.dropPathKeepProbability(5)).toBe(1); // progress 0 until the loop says otherwise
    network.setDropPathProgress(0.5);
    expect(network.dropPathKeepProbability(5)).toBeCloseTo(0.925, 12);
    network.setDropPathProgress(250 / 1000);
    expect(network.dropPathKeepProbability(2)).toBeCloseTo(1 - 0.25 * 0.075, 12);
    network.eval();
    expect(network.dropPathKeepProbability(11)).toBe(1); // never at inference
    expect(() => network.setDropPathProgress(Number.NaN)).toThrow(/progress/);
    network.dispose();
  });

  it('keeps the expected value: the mean over 4000 masks is the input (5 standard deviations), each mask 0 or 1/p', () => {
    const keep = 0.6;
    const n = 4000;
    const x = tf.tidy(() => tf.tile(randomImages([1, 2, 3, 2], 1), [n, 1, 1, 1]) as tf.Tensor4D);
    const dropped = dropPath(x, keep, new Rng(9));
    const ratios = tf.tidy(() => tf.div(dropped, x).dataSync());
    for (const r of ratios) expect(r === 0 || Math.abs(r - 1 / keep) < 1e-6).toBe(true);
    const mean = tf.tidy(() => tf.mean(dropped, 0, true));
    const first = tf.tidy(() => tf.slice(x, [0, 0, 0, 0], [1, 2, 3, 2]));
    // Per pixel mean = x·(mean of m/p), m ~ Bernoulli(p): standard deviation |x|·sqrt((1 − p)/(p·n)) ≈ 0.013·|x|.
    const sd = Math.sqrt((1 - keep) / (keep * n));
    const relative = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.div(mean, first), 1))).dataSync()[0]!);
    expect(relative).toBeLessThan(5 * sd);
    expect(relative).toBeGreaterThan(0); // the masks are random
    expect(dropPath(x, 1, new Rng(0))).toBe(x);
    tf.dispose([x, dropped, mean, first]);
  });

  it('at keep probability 1 (the default), or at progress 0, or in eval mode, the network is unchanged', () => {
    const x = randomImages([2, 33, 33, 3], 2);
    const plain = buildNetwork(paperShort(), { ...options, name: 'dp_plain' });
    const expected = trainLogits(plain, x);
    plain.setDropPathProgress(1);
    const again = trainLogits(plain, x);
    expect(maxAbsDiff(again, expected)).toBe(0);

    const scheduled = buildNetwork(paperShort(), { ...options, name: 'dp_scheduled', dropPathKeepProb: 0.5 });
    const atStart = trainLogits(scheduled, x);
    expect(maxAbsDiff(atStart, expected)).toBe(0);
    scheduled.setDropPathProgress(1, 3);
    const dropped = trainLogits(scheduled, x);
    expect(maxAbsDiff(dropped, expected)).toBeGreaterThan(1e-3);
    scheduled.setDropPathProgress(1, 3);
    const replayed = trainLogits(scheduled, x);
    expect(maxAbsDiff(replayed, dropped)).toBe(0); // the same seed draws the same masks
    const before = tf.memory().numTensors;
    // In eval mode no mask is drawn: two passes at progress 1 and one at progress 0 agree.
    const evalA = scheduled.eval().forward(x);
    const evalB = scheduled.forward(x);
    scheduled.setDropPathProgress(0);
    const evalC = scheduled.forward(x);
    expect(maxAbsDiff(evalA, evalB)).toBe(0);
    expect(maxAbsDiff(evalA, evalC)).toBe(0);
    tf.dispose([evalA, evalB, evalC]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, expected, again, atStart, dropped, replayed]);
    plain.dispose();
    scheduled.dispose();
  });

  it('never drops identities (as the official cell, whose identity op is exempt)', () => {
    const genotype = paperShort();
    genotype.path = [4, 4];
    genotype.cell = genotype.cell.map((block) => block.map((branch) => ({ ...branch, op: 'skip_connect' }))) as Genotype['cell'];
    const x = randomImages([2, 17, 17, 3], 3);
    const plain = buildNetwork(genotype, { ...options, name: 'dp_id_plain' });
    const scheduled = buildNetwork(genotype, { ...options, name: 'dp_id_scheduled', dropPathKeepProb: 0.1 });
    scheduled.setDropPathProgress(1);
    const a = trainLogits(plain, x);
    const b = trainLogits(scheduled, x);
    expect(maxAbsDiff(a, b)).toBe(0);
    tf.dispose([x, a, b]);
    plain.dispose();
    scheduled.dispose();
  });
});
