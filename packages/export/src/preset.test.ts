import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import { builtinGenotype } from '@autodeeplab/genotype';
import { buildNetwork } from '@autodeeplab/model';
import { exportOnnx } from './index.js';
import { forwardNhwc, randomImages, randomizeInferenceState, relativeError, runOnnx, transposeLayout } from './testing.js';

/** As export.test.ts: float32 through the network in two runtimes, relative to the logits' scale. */
const TOLERANCE = 1e-4;

describe('exportOnnx: the paper network at preset S', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('equals the forward (full widths: F = 20, stem 64/64/128, ASPP and decoder 256), 19 classes, 49×73', async () => {
    const network = buildNetwork(builtinGenotype('paper'), { preset: 'S', numClasses: 19, seed: 11 });
    randomizeInferenceState(network, 12);
    const x = randomImages([1, 49, 73, 3], 13);
    const expected = await forwardNhwc(network, x);
    const model = await exportOnnx(network, { height: 49, width: 73 });
    const { data, dims } = await runOnnx(model, transposeLayout(Float32Array.from(await x.data()), x.shape, true), [1, 3, 49, 73]);
    expect(relativeError(transposeLayout(data, dims, false), expected)).toBeLessThan(TOLERANCE);
    x.dispose();
    network.dispose();
  });
});
