import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Rng, initBackend, measurePeakBytes, measureTape } from '@autodeeplab/core';
import { countSupernetMultiAdds, estimateCost } from './cost.js';
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

  it('estimates the tape of the per-op forward and the peak of a checkpointed training step within 25% of the measured memory, at two sizes', async () => {
    await initBackend({ backend: 'wasm' });
    const net = new Supernet(SMALL, { name: 'memory' });
    const vars = net.parameters();
    const report: string[] = [];
    for (const [h, w, n] of [
      [33, 33, 2],
      [64, 48, 1],
    ] as const) {
      const x = tf.tensor4d(new Rng(h).normals(n * h * w * 3), [n, h, w, 3]);
      const labels = tf.oneHot(tf.tensor1d(Array.from({ length: n * h * w }, (_, i) => i % SMALL.numClasses), 'int32'), SMALL.numClasses).reshape([n, h, w, SMALL.numClasses]);
      const estimate = estimateCost(SMALL, { height: h, width: w, batch: n });
      expect(estimate.parameters.total).toBe(referenceCounts(SMALL).parameters);
      expect(estimate.multiAdds).toBe(n * referenceCounts(SMALL, h, w).multiAdds);
      expect(estimate.memorySource).toBe('wasm-heap');

      // The tape of the per-op fused forward without checkpoints (what activationBytes models).
      const plainTape = measureTape((input) => net.forward(input as tf.Tensor4D, { stacked: false, checkpoint: false }), [x]).keptBytes;
      // The peak of a whole training step of the default forward: forward, backward, every gradient.
      // The default replay budget keeps every sep conv output at these sizes; budget 0 none.
      const step = (replayBudgetBytes?: number) => () => {
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, net.forward(x, { replayBudgetBytes })) as tf.Scalar, vars);
        tf.dispose([value, ...Object.values(grads)]);
      };
      step()(); // first use: kernel set-up allocations are not part of the step
      const peak = measurePeakBytes(step()).peakBytes;
      const peakNoLightReplays = measurePeakBytes(step(0)).peakBytes;
      expect(peak).toBeLessThan(plainTape);
      expect(peakNoLightReplays).toBeLessThan(peak);

      for (const [what, estimated, measured] of [
        ['tape', estimate.activationBytes, plainTape],
        ['training peak', estimate.trainingPeakBytes, peak],
        ['training peak, budget 0', estimateCost(SMALL, { height: h, width: w, batch: n, replayBudgetBytes: 0 }).trainingPeakBytes, peakNoLightReplays],
      ] as const) {
        const ratio = estimated / measured;
        report.push(`${h}×${w}×${n} ${what}: ${ratio.toFixed(3)}`);
        expect(ratio, `${h}×${w}×${n} ${what}: estimated ${estimated}, measured ${measured}`).toBeGreaterThan(0.75);
        expect(ratio, `${h}×${w}×${n} ${what}: estimated ${estimated}, measured ${measured}`).toBeLessThan(1.25);
      }
      tf.dispose([x, labels]);
    }
    console.info(`estimated / measured memory: ${report.join(', ')}`);
    net.dispose();
  });
});

describe('measureTape', () => {
  it("on cpu counts tfjs' byte count: each saved tensor is a clone counted at full size", async () => {
    await initBackend({ backend: 'cpu' });
    const x = tf.ones([1, 8, 8, 4]);
    const filter = tf.ones([1, 1, 4, 6]);
    const bytes = (n: number) => 4 * n;
    // neg saves nothing: only the result (kept by the sum that follows) is held.
    expect(measureTape((t) => tf.neg(t), [x])).toMatchObject({ keptBytes: bytes(256), source: 'tensor-bytes' });
    // relu saves a clone of its input, then the result.
    expect(measureTape((t) => tf.relu(t), [x]).keptBytes).toBe(bytes(256 + 256));
    // relu saves x; the conv saves relu(x) and the filter; then the result (8·8·6).
    expect(measureTape((t) => tf.conv2d(tf.relu(t) as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), [x]).keptBytes).toBe(bytes(256 + 256 + 24 + 384));
    tf.dispose([x, filter]);
  });

  it('on wasm counts heap buffers: a saved tensor shares its buffer, so only new buffers count', async () => {
    await initBackend({ backend: 'wasm' });
    const x = tf.ones([1, 8, 8, 4]);
    const filter = tf.ones([1, 1, 4, 6]);
    const bytes = (n: number) => 4 * n;
    // relu saves its input (which existed before): only the result is new.
    expect(measureTape((t) => tf.relu(t), [x])).toEqual({ keptBytes: bytes(256), forwardBytes: bytes(256), source: 'wasm-heap' });
    // The conv saves relu(x) (new) and the filter (existed before), then the result (8·8·6); the
    // forward allocated relu(x) and the result.
    expect(measureTape((t) => tf.conv2d(tf.relu(t) as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), [x])).toEqual({
      keptBytes: bytes(256 + 384),
      forwardBytes: bytes(256 + 384),
      source: 'wasm-heap',
    });
    tf.dispose([x, filter]);
  });
});
