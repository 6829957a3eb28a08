import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import { countSupernetMultiAdds, estimateCost } from './cost.js';
import { measureKeptBytes } from './probe.js';
import { Supernet } from './supernet.js';
import { referenceCounts } from './testing/reference-counts.js';

const SMALL = { layers: 3, blocks: 2, filterMultiplier: 2, scales: [4, 8, 16] as (4 | 8 | 16)[], numClasses: 3 };

describe('estimateCost', () => {
  it('counts the Multi-Adds of the fused forward as the formula from the config', () => {
    for (const [h, w] of [
      [65, 65],
      [129, 97],
    ] as const) {
      expect(countSupernetMultiAdds(SMALL, { height: h, width: w })).toBe(referenceCounts(SMALL, h, w).multiAdds);
    }
    const paper = { layers: 12, blocks: 5, filterMultiplier: 8, scales: [4, 8, 16, 32], numClasses: 19 };
    expect(countSupernetMultiAdds({}, { height: 321, width: 321 })).toBe(referenceCounts(paper, 321, 321).multiAdds);
  });

  it('estimates the bytes the tape keeps for backward within 25% of the measured amount, at two sizes', async () => {
    await initBackend({ backend: 'wasm' });
    const net = new Supernet(SMALL, { name: 'memory' });
    const ratios: number[] = [];
    for (const [h, w, n] of [
      [33, 33, 2],
      [64, 48, 1],
    ] as const) {
      const x = tf.tensor4d(new Rng(h).normals(n * h * w * 3), [n, h, w, 3]);
      // The estimate models the per-op fused forward's tape; the default (stacked, checkpointed)
      // forward keeps far less, and must stay below it.
      const measured = measureKeptBytes((input) => net.forward(input as tf.Tensor4D, { stacked: false }), [x]);
      const stackedKept = measureKeptBytes((input) => net.forward(input as tf.Tensor4D), [x]);
      expect(stackedKept).toBeLessThan(measured);
      const estimate = estimateCost(SMALL, { height: h, width: w, batch: n });
      expect(estimate.parameters.total).toBe(referenceCounts(SMALL).parameters);
      expect(estimate.multiAdds).toBe(n * referenceCounts(SMALL, h, w).multiAdds);
      const ratio = estimate.activationBytes / measured;
      ratios.push(ratio);
      expect(ratio, `${h}×${w}×${n}: estimated ${estimate.activationBytes}, measured ${measured}`).toBeGreaterThan(0.75);
      expect(ratio, `${h}×${w}×${n}: estimated ${estimate.activationBytes}, measured ${measured}`).toBeLessThan(1.25);
      x.dispose();
    }
    console.info(`estimated / measured kept bytes: ${ratios.map((r) => r.toFixed(3)).join(', ')}`);
    net.dispose();
  });
});

describe('measureKeptBytes', () => {
  it("counts what tfjs' tape holds: each saved tensor is a clone counted at full size", async () => {
    await initBackend({ backend: 'cpu' });
    const x = tf.ones([1, 8, 8, 4]);
    const filter = tf.ones([1, 1, 4, 6]);
    const bytes = (n: number) => 4 * n;
    // neg saves nothing: only the result (kept by the sum that follows) is held.
    expect(measureKeptBytes((t) => tf.neg(t), [x])).toBe(bytes(256));
    // relu saves a clone of its input, then the result.
    expect(measureKeptBytes((t) => tf.relu(t), [x])).toBe(bytes(256 + 256));
    // relu saves x; the conv saves relu(x) and the filter; then the result (8·8·6).
    expect(measureKeptBytes((t) => tf.conv2d(tf.relu(t) as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), [x])).toBe(bytes(256 + 256 + 24 + 384));
    tf.dispose([x, filter]);
  });
});
