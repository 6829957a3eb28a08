import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import { builtinGenotype, type Scale } from '@autodeeplab/genotype';
import { DilConv, createOp, type Op } from '@autodeeplab/ops';
import { setBatchNormConstants } from './batch-norm.js';
import { buildNetwork, type Network } from './index.js';
import { ResizedAtrous, halveAlignCorners } from './resized-atrous.js';
import { TINY, maxAbsDiff, randomImages } from './testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** The paper's cell on a path going down at cell 1: there B1 reads H^{l−2} with dil_conv_5x5, B2 reads H^{l−1} with dil_conv_3x3. */
function downNetwork(name: string, atrousDownsampling: 'resize' | 'strided', path: Scale[] = [4, 8]): Network {
  const genotype = { ...builtinGenotype('paper'), path };
  return buildNetwork(genotype, { filterMultiplier: 2, numClasses: 3, ...TINY, name, seed: 3, atrousDownsampling }).eval();
}

/** Float32 sums of a few hundred terms of order 1: 1e-5 bounds the rounding of two equal computations. */
const FLOAT32_SUM = 1e-5;

describe('stride-2 atrous ops of the discrete network (official: resize to half, then the conv at rate 1)', () => {
  it('the resize is TensorFlow align_corners to ceil(n/2) (float64 oracle, 10 → 5 and 7 → 4)', () => {
    const column = Array.from({ length: 10 }, (_, i) => i * i);
    const x = tf.tensor4d(
      column.flatMap((v) => [v, v, v, v, v, v, v]),
      [1, 10, 7, 1],
    );
    const y = tf.tidy(() => halveAlignCorners(x).dataSync());
    expect(y.length).toBe(5 * 4);
    // align_corners: output i samples input i·(n − 1)/(m − 1), linearly interpolated.
    for (let i = 0; i < 5; i++) {
      const src = (i * 9) / 4;
      const lo = Math.floor(src);
      const expected = column[lo]! + (src - lo) * ((column[Math.min(lo + 1, 9)] ?? 0) - column[lo]!);
      for (let j = 0; j < 4; j++) expect(y[i * 4 + j]).toBeCloseTo(expected, 4);
    }
    x.dispose();
  });

  it('at a size that is not 32k+1 (10×14) the op equals resize(ReLU(x)) → k×k conv, rate 1 → BN, from the same weights', () => {
    const network = downNetwork('atrous_ref', 'resize');
    const cell = network.cells[1]!;
    expect(cell.plan.transition).toBe('down');
    const op = cell.ops[1]![1];
    expect(op).toBeInstanceOf(ResizedAtrous);
    const atrous = op as ResizedAtrous;
    const x = randomImages([2, 10, 14, cell.plan.width], 4);
    const reference = tf.tidy(() => {
      const half = tf.image.resizeBilinear(tf.relu(x), [5, 7], true, false);
      const conv = tf.conv2d(half, atrous.conv.kernel as tf.Tensor4D, 1, 'same');
      const { runningMean, runningVar, gamma, beta, epsilon } = atrous.bn;
      return tf.batchNorm(conv, runningMean, runningVar, beta!, gamma!, epsilon);
    });
    const got = op.apply(x);
    expect(got.shape).toEqual([2, 5, 7, cell.plan.width]);
    expect(maxAbsDiff(got, reference)).toBeLessThan(FLOAT32_SUM);
    tf.dispose([x, reference, got]);
    network.dispose();
  });

  it('agrees with the strided dilated conv (rate 2, stride 2) at odd sizes only', () => {
    const network = downNetwork('atrous_odd', 'resize');
    const op = network.cells[1]!.ops[0]![0]; // dil_conv_5x5 reading H^{l−2}
    const strided = createOp('dil_conv_5x5', { name: 'strided_5x5', channels: 4, stride: 2, affine: true, rng: new Rng(0) }) as Op;
    expect(strided).toBeInstanceOf(DilConv);
    strided.loadStateDict(op.stateDict());
    setBatchNormConstants(strided, { epsilon: 1e-3, decay: 0.9997 });
    strided.eval();
    for (const [h, w, equal] of [
      [9, 13, true],
      [10, 14, false],
    ] as const) {
      const x = randomImages([1, h, w, 4], h);
      const a = op.apply(x);
      const b = strided.apply(x);
      expect(a.shape).toEqual(b.shape);
      if (equal) expect(maxAbsDiff(a, b)).toBeLessThan(FLOAT32_SUM);
      else expect(maxAbsDiff(a, b)).toBeGreaterThan(0.01);
      tf.dispose([x, a, b]);
    }
    strided.dispose();
    network.dispose();
  });

  it('the whole network: same variables and counts either way; same logits for 32k+1 inputs, different otherwise', () => {
    const path: Scale[] = [4, 8, 16, 8, 16, 32];
    const resize = downNetwork('net_resize', 'resize', path);
    const strided = downNetwork('net_strided', 'strided', path);
    expect([...resize.stateDict().keys()]).toEqual([...strided.stateDict().keys()]);
    strided.loadStateDict(resize.stateDict());
    for (const [h, w, equal] of [
      [65, 97, true],
      [64, 96, false],
    ] as const) {
      const x = randomImages([1, h, w, 3], w);
      const a = resize.forward(x);
      const b = strided.forward(x);
      if (equal) expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
      else expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-3);
      tf.dispose([x, a, b]);
    }
    resize.dispose();
    strided.dispose();
  });
});
