import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import { cellEdges, TrellisTopology } from './topology.js';

describe('cellEdges', () => {
  it('wires B = 5 blocks with 2+3+4+5+6 = 20 edges in α row order', () => {
    const edges = cellEdges(5);
    expect(edges).toHaveLength(20);
    expect(edges.slice(0, 5).map((e) => `${e.block}:${e.input}`)).toEqual(['1:prev_prev', '1:prev', '2:prev_prev', '2:prev', '2:block1']);
    expect(edges[19]).toEqual({ index: 19, block: 5, input: 'block4' });
  });
});

describe('TrellisTopology', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('has the reachable nodes of the paper: s=8 from layer 1, 16 from layer 2, 32 from layer 3', () => {
    const t = new TrellisTopology(12);
    expect(t.scalesAt(0)).toEqual([4]);
    expect(t.scalesAt(1)).toEqual([4, 8]);
    expect(t.scalesAt(2)).toEqual([4, 8, 16]);
    expect(t.scalesAt(3)).toEqual([4, 8, 16, 32]);
    expect(t.scalesAt(12)).toEqual([4, 8, 16, 32]);
    // Outgoing edges: layer 0: 2; layer 1: 2+3; layer 2: 2+3+3; layers 3..11: 2+3+3+2 each.
    expect(t.betaSize).toBe(2 + 5 + 8 + 9 * 10);
  });

  it('normalises β over each node’s outgoing edges, two at the boundary scales', () => {
    const t = new TrellisTopology(5, [4, 8, 16]);
    const logits = tf.tensor1d(Array.from({ length: t.betaSize }, (_, i) => Math.sin(i * 1.7) * 3));
    const p = t.normalizeBeta(logits).arraySync();
    const raw = logits.arraySync();
    for (let layer = 0; layer < 5; layer++) {
      for (const s of t.scalesAt(layer)) {
        const out = t.outgoing(layer, s);
        expect(out.length).toBe(s === 4 || s === 16 ? 2 : 3);
        const z = out.reduce((a, e) => a + Math.exp(raw[e.index]!), 0);
        for (const e of out) expect(p[e.index]).toBeCloseTo(Math.exp(raw[e.index]!) / z, 6);
        expect(out.reduce((a, e) => a + p[e.index]!, 0)).toBeCloseTo(1, 6);
      }
    }
  });

  it.each(['cpu', 'wasm'] as const)('gives every β logit a gradient on %s', async (backend) => {
    await initBackend({ backend });
    const t = new TrellisTopology(4);
    const logits = tf.tensor1d(Array.from({ length: t.betaSize }, (_, i) => Math.cos(i)));
    const weights = tf.tensor1d(Array.from({ length: t.betaSize }, (_, i) => (i % 7) - 3));
    const g = Array.from(
      tf
        .grad((b: tf.Tensor) => tf.sum(tf.mul(t.normalizeBeta(b as tf.Tensor1D), weights)))(logits)
        .dataSync(),
    );
    expect(g.every((v) => Math.abs(v) > 1e-6)).toBe(true);
  });
});
