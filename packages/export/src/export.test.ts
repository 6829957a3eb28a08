import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserInputError, initBackend } from '@autodeeplab/core';
import { builtinGenotype } from '@autodeeplab/genotype';
import { buildNetwork, type Network } from '@autodeeplab/model';
import { exportOnnx } from './index.js';
import { onnx } from './proto.js';
import { TINY, allOpsGenotype, forwardNhwc, randomImages, randomizeInferenceState, relativeError, runOnnx, transposeLayout } from './testing.js';

/**
 * Float32 through ~60 layers in two runtimes that sum in different orders (im2col vs direct
 * convolutions, BN folded or not): a few ulps per layer, amplified by depth, stays below 1e-4 of the
 * logits' scale (the issue's bound).
 */
const TOLERANCE = 1e-4;

/** Exports `network`, runs it in ONNX Runtime on `x` (NHWC) and returns the error against our forward. */
async function compare(network: Network, x: tf.Tensor4D, options: Parameters<typeof exportOnnx>[1] = {}): Promise<number> {
  const model = await exportOnnx(network, options);
  const expected = await forwardNhwc(network, x);
  const nhwc = Float32Array.from(await x.data());
  const [n, h, w, c] = x.shape;
  const nchw = options.layout === 'NHWC';
  const input = nchw ? nhwc : transposeLayout(nhwc, x.shape, true);
  const { data, dims } = await runOnnx(model, input, nchw ? [n, h, w, c] : [n, c, h, w]);
  const classes = network.config.numClasses;
  expect(dims).toEqual(nchw ? [n, h, w, classes] : [n, classes, h, w]);
  const actual = nchw ? data : transposeLayout(data, dims, false);
  return relativeError(actual, expected);
}

describe('exportOnnx: the paper network in ONNX Runtime', () => {
  let paper: Network;

  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    paper = buildNetwork(builtinGenotype('paper'), { filterMultiplier: 4, numClasses: 3, ...TINY, seed: 1 });
    randomizeInferenceState(paper, 2);
  });

  afterAll(() => paper.dispose());

  it('equals the forward at an odd size, 57×85, NCHW, fixed size, batch 2', async () => {
    const x = randomImages([2, 57, 85, 3], 3);
    const error = await compare(paper, x, { height: 57, width: 85 });
    x.dispose();
    expect(error).toBeLessThan(TOLERANCE);
  });

  it('equals the forward in NHWC as in NCHW', async () => {
    const x = randomImages([1, 57, 85, 3], 4);
    const errors = [await compare(paper, x, { layout: 'NHWC', height: 57, width: 85 }), await compare(paper, x, { layout: 'NHWC' })];
    x.dispose();
    expect(Math.max(...errors)).toBeLessThan(TOLERANCE);
  });

  it('with a dynamic size, one model runs at odd and even sizes (the stride-2 padding depends on parity)', async () => {
    const model = await exportOnnx(paper);
    for (const [h, w, seed] of [
      [57, 85, 5],
      [64, 96, 6],
      [33, 50, 7],
    ] as const) {
      const x = randomImages([1, h, w, 3], seed);
      const expected = await forwardNhwc(paper, x);
      const { data, dims } = await runOnnx(model, transposeLayout(Float32Array.from(await x.data()), x.shape, true), [1, 3, h, w]);
      x.dispose();
      expect(dims).toEqual([1, 3, h, w]);
      expect(relativeError(transposeLayout(data, dims, false), expected), `${h}×${w}`).toBeLessThan(TOLERANCE);
    }
  });

  it('equals the forward at 257×385', async () => {
    const x = randomImages([1, 257, 385, 3], 8);
    const error = await compare(paper, x, { height: 257, width: 385 });
    x.dispose();
    expect(error).toBeLessThan(TOLERANCE);
  });

  it('leaves no tensors behind and writes class names, preprocessing and genotype into the metadata', async () => {
    await exportOnnx(paper, { height: 33, width: 33 }); // warm caches
    const before = tf.memory().numTensors;
    const classNames = ['road', 'car', 'sky'];
    const preprocessing = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
    const bytes = await exportOnnx(paper, { classNames, preprocessing });
    expect(tf.memory().numTensors).toBe(before);
    const model = onnx.ModelProto.decode(bytes);
    const props = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    expect(JSON.parse(props.class_names!)).toEqual(classNames);
    expect(JSON.parse(props.preprocessing!)).toMatchObject(preprocessing);
    expect(JSON.parse(props.genotype!)).toEqual(paper.genotype);
    expect(props.layout).toBe('NCHW');
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    const input = model.graph?.input?.[0]?.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue));
    expect(input).toEqual(['batch', 3, 'height', 'width']);
  });

  it('rejects options that do not fit the network', async () => {
    await expect(exportOnnx(paper, { height: 57 })).rejects.toThrow(/both height and width/);
    await expect(exportOnnx(paper, { classNames: ['a'] })).rejects.toThrow(/classNames has 1 names, expected 3/);
    await expect(exportOnnx(paper, { height: 0, width: 3 })).rejects.toThrow(UserInputError);
  });
});

describe('exportOnnx: every built-in op, both atrous downsamplings', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it.each(['resize', 'strided'] as const)('equals the forward with atrousDownsampling %s at odd and even sizes', async (atrousDownsampling) => {
    // Up and down the trellis; pools, identity and FactorizedReduce, zero, separable and atrous ops at strides 1 and 2.
    const network = buildNetwork(allOpsGenotype([4, 8, 16, 8, 4, 8, 16, 32, 16]), { filterMultiplier: 4, numClasses: 4, ...TINY, atrousDownsampling, seed: 3 });
    randomizeInferenceState(network, 4);
    for (const [h, w] of [
      [45, 67],
      [48, 64],
    ] as const) {
      const x = randomImages([2, h, w, 3], h);
      expect(await compare(network, x), `${h}×${w}`).toBeLessThan(TOLERANCE);
      x.dispose();
    }
    network.dispose();
  });
});
