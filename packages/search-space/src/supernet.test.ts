import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import { TrellisTopology } from '@autodeeplab/genotype';
import { Supernet } from './supernet.js';
import { TINY, input, step } from './testing/supernet-fixtures.js';

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`Supernet forward on ${backend}`, () => {
    it('returns logits at the input size for odd 32k+1, even and mixed sizes', async () => {
      await initBackend({ backend });
      const net = new Supernet(TINY, { name: `sizes_${backend}` });
      for (const [h, w] of [
        [65, 65],
        [64, 64],
        [129, 97],
      ] as const) {
        const x = input([1, h, w, 3], h);
        const y = net.forward(x);
        expect(y.shape).toEqual([1, h, w, 3]);
        expect(Number.isFinite(tf.sum(y).dataSync()[0])).toBe(true);
        tf.dispose([x, y]);
      }
      net.dispose();
    });
  });
}

describe('Supernet parameters and β', () => {
  let net: Supernet;
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    net = new Supernet(TINY, { seed: 3 });
  });
  afterAll(() => net.dispose());

  it('owns α [edges, ops] and β [betaSize] in the arch group, initialised 1e-3·N(0,1) from the seed', () => {
    expect(net.archParameters()).toEqual([net.alpha, net.beta]);
    expect(net.alpha.shape).toEqual([5, 8]); // 2 + 3 edges for 2 blocks
    expect(net.beta.shape).toEqual([new TrellisTopology(3, [4, 8, 16]).betaSize]);
    const a = Array.from(net.alpha.dataSync());
    const std = Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    expect(std).toBeGreaterThan(3e-4);
    expect(std).toBeLessThan(3e-3);
    const again = new Supernet(TINY, { seed: 3, name: 'again' });
    expect(again.alpha.dataSync()).toEqual(net.alpha.dataSync());
    again.dispose();
    const weights = net.weightParameters();
    expect(weights).not.toContain(net.alpha);
    expect(weights).not.toContain(net.beta);
    expect(weights.length + 2).toBe(net.parameters().length);
  });

  it("normalises β by a softmax over each node's outgoing edges (boundary nodes included, no extra factor)", () => {
    const logits = new Rng(11).normals(net.beta.size, 2);
    net.beta.assign(tf.tensor1d(logits));
    const normalised = net.normalizedBeta().dataSync();
    const topology = net.topology;
    let nodes = 0;
    for (let layer = 0; layer < 3; layer++) {
      for (const scale of topology.scalesAt(layer)) {
        const out = topology.outgoing(layer, scale);
        expect(out.length).toBe(scale === 4 || scale === 16 ? 2 : 3);
        const z = out.map((e) => Math.exp(logits[e.index]!));
        const total = z.reduce((a, b) => a + b, 0);
        out.forEach((e, k) => expect(normalised[e.index]).toBeCloseTo(z[k]! / total, 6));
        expect(out.reduce((s, e) => s + normalised[e.index]!, 0)).toBeCloseTo(1, 6);
        nodes++;
      }
    }
    expect(nodes).toBe(1 + 2 + 3);
    const reference = tf.tidy(() => topology.normalizeBeta(net.beta as tf.Tensor1D).dataSync());
    expect(
      Array.from(normalised)
        .map((v, i) => v - reference[i]!)
        .every((d) => Math.abs(d) < 1e-6),
    ).toBe(true);
  });
});

describe('Supernet training step (wasm)', () => {
  it('gives every α and β entry and every weight a non-zero gradient', async () => {
    await initBackend({ backend: 'wasm' });
    const net = new Supernet(TINY, { name: 'grads' });
    const x = input([2, 33, 33, 3], 5);
    const grads = step(net, x, 6);
    const missing: string[] = [];
    for (const v of net.parameters()) {
      const g = grads.get(v.name);
      if (!g) {
        missing.push(`${v.name} (no gradient)`);
        continue;
      }
      const values = g.dataSync();
      if (v === net.alpha || v === net.beta) {
        const zero = Array.from(values).flatMap((value, i) => (value === 0 ? [i] : []));
        if (zero.length > 0) missing.push(`${v.name} entries ${zero.join(',')}`);
      } else if (!values.some((value) => value !== 0)) {
        missing.push(`${v.name} (all zero)`);
      }
    }
    expect(missing).toEqual([]);
    tf.dispose([...grads.values(), x]);
    net.dispose();
  });

  it('keeps tf.memory().numTensors flat across steps', async () => {
    await initBackend({ backend: 'wasm' });
    const net = new Supernet(TINY, { name: 'leaks' });
    const x = input([2, 17, 17, 3], 7);
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      tf.dispose([...step(net, x, i).values()]);
      counts.push(tf.memory().numTensors);
    }
    expect(counts[2]).toBe(counts[0]);
    expect(counts[1]).toBe(counts[0]);
    x.dispose();
    net.dispose();
  });
});
