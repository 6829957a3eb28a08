import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Rng, initBackend, measurePeakBytes, measureTape } from '@autodeeplab/core';
import { countSupernetMultiAdds, estimateCost } from './estimate.js';
import { Supernet } from '../supernet.js';
import { referenceCounts } from '../testing/reference-counts.js';

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
    // A substituted H^{l-2} runs the prev_prev edges once per call instead of not at all.
    const substitute = { ...SMALL, missingPrevPrev: 'substitute' as const };
    expect(countSupernetMultiAdds(substitute, { height: 65, width: 65 })).toBe(referenceCounts(substitute, 65, 65).multiAdds);
    expect(countSupernetMultiAdds(substitute, { height: 65, width: 65 })).toBeGreaterThan(countSupernetMultiAdds(SMALL, { height: 65, width: 65 }));
  });

  it('estimates the tape of the per-op forward and the peak of a recomputed training step within 25% of the measured memory, at two sizes', async () => {
    await initBackend({ backend: 'wasm' });
    const net = new Supernet(SMALL, { name: 'memory' });
    const vars = net.parameters();
    const report: string[] = [];
    for (const [h, w, n] of [
      [33, 33, 2],
      [64, 48, 1],
    ] as const) {
      const x = tf.tensor4d(new Rng(h).normals(n * h * w * 3), [n, h, w, 3]);
      const k = SMALL.numClasses;
      const labels = tf
        .oneHot(
          tf.tensor1d(
            Array.from({ length: n * h * w }, (_, i) => i % k),
            'int32',
          ),
          k,
        )
        .reshape([n, h, w, k]);
      const estimate = estimateCost(SMALL, { height: h, width: w, batch: n });
      expect(estimate.parameters.total).toBe(referenceCounts(SMALL).parameters);
      expect(estimate.multiAdds).toBe(n * referenceCounts(SMALL, h, w).multiAdds);
      expect(estimate.memorySource).toBe('wasm-heap');

      // The tape of the per-op fused forward without recomputation (what activationBytes models).
      const plainTape = measureTape((input) => net.forward(input as tf.Tensor4D, { stacked: false, recompute: false }), [x]).keptBytes;
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
