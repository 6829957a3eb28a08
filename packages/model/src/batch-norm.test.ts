import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import { builtinGenotype } from '@autodeeplab/genotype';
import { batchNormsOf } from './batch-norm.js';
import { buildNetwork } from './index.js';
import { TINY } from './testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const options = { filterMultiplier: 2, numClasses: 3, ...TINY };

describe('batch-norm constants of the discrete network (official nas_arg_scope)', () => {
  it('every BN (stem, cell projections, ops, ASPP, decoder) has ε = 1e-3 and decay 0.9997 by default', () => {
    const network = buildNetwork(builtinGenotype('paper'), { ...options, name: 'bn_defaults' });
    const bns = batchNormsOf(network);
    // Stem 3, per cell 1–2 projections + 17 op BNs (7 sep convs × 2 + 3 atrous), ASPP 5 + 1, decoder 3.
    expect(bns.length).toBeGreaterThan(12 * 18);
    const names = new Set(bns.map((bn) => bn.name.split('/')[1]));
    expect([...names].sort()).toEqual(['aspp', ...network.cells.map((c) => c.name.split('/')[1]!), 'decoder', 'stem'].sort());
    for (const bn of bns) {
      expect(bn.epsilon, bn.name).toBe(1e-3);
      expect(bn.momentum, bn.name).toBeCloseTo(3e-4, 15);
    }
    network.dispose();
  });

  it('an op BN normalises with ε = 1e-3 and updates its running statistics with decay 0.9997 (hand-computed)', () => {
    const network = buildNetwork(builtinGenotype('paper'), { ...options, name: 'bn_hand' });
    // The first BN of cell 0's first op (a sep conv built by @autodeeplab/ops): 2 channels (F = 2, s = 4).
    const bn = batchNormsOf(network.cells[0]!.ops[0]![0])[0]!;
    // Channel 0 takes 0 and 0.02 (mean 0.01, biased variance 1e-4, unbiased 2e-4); channel 1 takes 1 and 3.
    const x = tf.tensor4d([0, 1, 0.02, 3], [2, 1, 1, 2]);
    const y = tf.tidy(() => bn.apply(x).dataSync());
    // γ = 1, β = 0: (x − mean) / sqrt(var + ε). ε = 1e-5 would give ±0.9535 on channel 0.
    const c0 = 0.01 / Math.sqrt(1e-4 + 1e-3);
    const c1 = 1 / Math.sqrt(1 + 1e-3);
    const expected = [-c0, -c1, c0, c1];
    // Float32 rounding of values of order 1: 1e-6 is ample and far below the ε difference.
    expected.forEach((v, i) => expect(y[i]).toBeCloseTo(v, 6));
    // running = 0.9997·running + 0.0003·batch (unbiased variance), from mean 0 and variance 1.
    const mean = bn.runningMean.dataSync();
    const variance = bn.runningVar.dataSync();
    expect(mean[0]).toBeCloseTo(0.0003 * 0.01, 9);
    expect(mean[1]).toBeCloseTo(0.0003 * 2, 8);
    expect(variance[0]).toBeCloseTo(0.9997 + 0.0003 * 2e-4, 7);
    expect(variance[1]).toBeCloseTo(0.9997 + 0.0003 * 2, 7);
    // Eval mode normalises with the running statistics and the same ε.
    bn.train(false);
    const z = tf.tidy(() => bn.apply(tf.tensor4d([1, 1], [1, 1, 1, 2])).dataSync());
    expect(z[0]).toBeCloseTo((1 - mean[0]!) / Math.sqrt(variance[0]! + 1e-3), 6);
    tf.dispose(x);
    network.dispose();
  });

  it('is configurable (PyTorch constants: ε = 1e-5, momentum 0.1 = decay 0.9)', () => {
    const network = buildNetwork(builtinGenotype('paper'), { ...options, name: 'bn_custom', batchNormEpsilon: 1e-5, batchNormDecay: 0.9 });
    for (const bn of batchNormsOf(network)) {
      expect(bn.epsilon).toBe(1e-5);
      expect(bn.momentum).toBeCloseTo(0.1, 12);
    }
    network.dispose();
    expect(() => buildNetwork(builtinGenotype('paper'), { ...options, batchNormDecay: 1 })).toThrow(/batchNormDecay/);
    expect(() => buildNetwork(builtinGenotype('paper'), { ...options, batchNormEpsilon: 0 })).toThrow(/batchNormEpsilon/);
  });
});
