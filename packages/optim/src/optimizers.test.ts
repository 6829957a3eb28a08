import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import { Adam, SGD } from './optimizers.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

function variables(values: Record<string, number[]>): Map<string, tf.Variable> {
  return new Map(Object.entries(values).map(([k, v]) => [k, tf.variable(tf.tensor1d(v), true, `opt-test/${k}/${Math.random()}`)]));
}

function dispose(vars: Map<string, tf.Variable>): void {
  for (const v of vars.values()) v.dispose();
}

describe('SGD (PyTorch semantics)', () => {
  it('matches hand-computed momentum and weight-decay updates', () => {
    const params = variables({ w: [1, -2] });
    const sgd = new SGD(params, { learningRate: 0.1, momentum: 0.9, weightDecay: 0.01 }, 'test/sgd');
    tf.tidy(() => sgd.step(new Map([['w', tf.tensor1d([0.5, 0.1])]])));
    // g' = g + wd·w = [0.51, 0.08]; v = g'; w = w − 0.1·v
    expect(Array.from(params.get('w')!.dataSync())).toEqual([expect.closeTo(0.949, 6), expect.closeTo(-2.008, 6)]);
    tf.tidy(() => sgd.step(new Map([['w', tf.tensor1d([-0.3, 0.2])]])));
    // g' = [−0.3 + 0.00949, 0.2 − 0.02008]; v = 0.9·[0.51, 0.08] + g' = [0.16849, 0.25192]
    expect(Array.from(params.get('w')!.dataSync())).toEqual([expect.closeTo(0.932151, 6), expect.closeTo(-2.033192, 6)]);
    expect(sgd.iterations).toBe(2);
    sgd.dispose();
    dispose(params);
  });

  it('plain SGD is w − lr·g, and Nesterov uses g + μ·v', () => {
    const params = variables({ a: [3], b: [3] });
    const plain = new SGD(new Map([['a', params.get('a')!]]), { learningRate: 0.5 }, 'test/plain');
    const nesterov = new SGD(new Map([['b', params.get('b')!]]), { learningRate: 0.5, momentum: 0.5, nesterov: true }, 'test/nesterov');
    tf.tidy(() => plain.step({ a: tf.tensor1d([2]) }));
    tf.tidy(() => nesterov.step({ b: tf.tensor1d([2]) }));
    expect(params.get('a')!.dataSync()[0]).toBeCloseTo(2, 6);
    // v = 2; direction = g + μ·v = 3; w = 3 − 1.5
    expect(params.get('b')!.dataSync()[0]).toBeCloseTo(1.5, 6);
    plain.dispose();
    nesterov.dispose();
    dispose(params);
  });

  it('leaves parameters without a gradient unchanged', () => {
    const params = variables({ x: [1], y: [2] });
    const sgd = new SGD(params, { learningRate: 1, momentum: 0.9, weightDecay: 0.1 }, 'test/partial');
    tf.tidy(() => sgd.step({ x: tf.tensor1d([1]) }));
    expect(params.get('y')!.dataSync()[0]).toBe(2);
    expect(params.get('x')!.dataSync()[0]).toBeCloseTo(1 - 1.1, 6);
    sgd.dispose();
    dispose(params);
  });
});

describe('Adam (L2 weight decay, bias correction)', () => {
  it('matches hand-computed updates', () => {
    const params = variables({ w: [1] });
    const adam = new Adam(params, { learningRate: 0.1, weightDecay: 0.01 }, 'test/adam');
    tf.tidy(() => adam.step({ w: tf.tensor1d([0.5]) }));
    // Step 1: m̂ = g', v̂ = g'² → update lr·g'/(|g'| + ε) ≈ lr.
    expect(params.get('w')!.dataSync()[0]).toBeCloseTo(0.9, 6);
    tf.tidy(() => adam.step({ w: tf.tensor1d([-0.3]) }));
    // Step 2 by hand: w = 0.9; g' = −0.3 + 0.009 = −0.291; m = 0.9·0.051 + 0.1·(−0.291) = 0.0168;
    // v = 0.999·0.0002601 + 0.001·0.084681 = 0.0003445209; m̂ = 0.0168/0.19; v̂ = 0.0003445209/0.001999.
    const mHat = 0.0168 / 0.19;
    const vHat = 0.0003445209 / 0.001999;
    expect(params.get('w')!.dataSync()[0]).toBeCloseTo(0.9 - (0.1 * mHat) / (Math.sqrt(vHat) + 1e-8), 6);
    expect(adam.iterations).toBe(2);
    adam.dispose();
    dispose(params);
  });

  it('agrees with a float64 reference over many steps on a vector', () => {
    const start = [0.3, -1.2, 2.5, 0];
    const params = variables({ w: start });
    const adam = new Adam(params, { learningRate: 0.05, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1 }, 'test/adam2');
    const w = [...start];
    const m = [0, 0, 0, 0];
    const v = [0, 0, 0, 0];
    for (let t = 1; t <= 6; t++) {
      const g = w.map((x, i) => Math.sin(t + i) + 0.5 * x);
      tf.tidy(() => adam.step({ w: tf.tensor1d(g) }));
      for (let i = 0; i < 4; i++) {
        const gi = g[i]! + 0.1 * w[i]!;
        m[i] = 0.8 * m[i]! + 0.2 * gi;
        v[i] = 0.99 * v[i]! + 0.01 * gi * gi;
        w[i] = w[i]! - (0.05 * (m[i]! / (1 - 0.8 ** t))) / (Math.sqrt(v[i]! / (1 - 0.99 ** t)) + 1e-6);
      }
    }
    const got = Array.from(params.get('w')!.dataSync());
    got.forEach((x, i) => expect(x).toBeCloseTo(w[i]!, 5));
    adam.dispose();
    dispose(params);
  });
});

describe('optimiser state', () => {
  it('round-trips: a restored optimiser continues exactly like the original', () => {
    for (const make of [
      (p: Map<string, tf.Variable>, tag: string) => new SGD(p, { learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3 }, tag),
      (p: Map<string, tf.Variable>, tag: string) => new Adam(p, { learningRate: 0.1, weightDecay: 1e-3 }, tag),
    ]) {
      const a = variables({ w: [1, 2, 3] });
      const b = variables({ w: [1, 2, 3] });
      const first = make(a, 'test/state-a');
      tf.tidy(() => first.step({ w: tf.tensor1d([0.1, -0.2, 0.3]) }));
      tf.tidy(() => first.step({ w: tf.tensor1d([0.4, 0.1, -0.1]) }));
      const saved = new Map([...first.state()].map(([k, t]) => [k, t.clone()]));
      const second = make(b, 'test/state-b');
      b.get('w')!.assign(a.get('w')!);
      second.loadState(saved);
      expect(second.iterations).toBe(2);
      tf.tidy(() => first.step({ w: tf.tensor1d([1, 1, 1]) }));
      tf.tidy(() => second.step({ w: tf.tensor1d([1, 1, 1]) }));
      expect(Array.from(b.get('w')!.dataSync())).toEqual(Array.from(a.get('w')!.dataSync()));
      for (const t of saved.values()) t.dispose();
      first.dispose();
      second.dispose();
      dispose(a);
      dispose(b);
    }
  });

  it('rejects a state with a missing or misshapen tensor, naming it', () => {
    const p = variables({ w: [1, 2] });
    const sgd = new SGD(p, { learningRate: 0.1, momentum: 0.9 }, 'test/bad');
    const wrong = tf.zeros([3]);
    const iterations = tf.scalar(0, 'int32');
    expect(() => sgd.loadState(new Map([['iterations', iterations]]), 'ckpt')).toThrow(/ckpt: missing tensor 'momentum\/w'/);
    expect(() =>
      sgd.loadState(
        new Map([
          ['iterations', iterations],
          ['momentum/w', wrong],
        ]),
        'ckpt',
      ),
    ).toThrow(/shape \[3\], expected \[2\]/);
    wrong.dispose();
    iterations.dispose();
    sgd.dispose();
    dispose(p);
  });

  it('creates its state up front: the tensor count does not grow with steps', () => {
    const p = variables({ w: [1, 2] });
    const adam = new Adam(p, { learningRate: 0.1 }, 'test/flat');
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      tf.tidy(() => adam.step({ w: tf.tensor1d([0.1, 0.2]) }));
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
    adam.dispose();
    dispose(p);
  });
});
