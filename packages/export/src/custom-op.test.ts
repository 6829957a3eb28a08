import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Module, UserInputError, initBackend, type Layer } from '@autodeeplab/core';
import { GENOTYPE_FORMAT, GENOTYPE_VERSION, type Genotype } from '@autodeeplab/genotype';
import { ReLUConvBN, registerOp, unregisterOp, type OpSpec } from '@autodeeplab/ops';
import { buildNetwork } from '@autodeeplab/model';
import { emitReLUConvBN, exportOnnx, hasOnnxMapping, registerOnnxMapping, unregisterOnnxMapping } from './index.js';
import { TINY, forwardNhwc, randomImages, randomizeInferenceState, relativeError, runOnnx, transposeLayout } from './testing.js';

/** As export.test.ts: float32 through the network in two runtimes, relative to the logits' scale. */
const TOLERANCE = 1e-4;

/** A user op: ReLU → 1×1 conv (at the edge's stride) → BN, gated by its own sigmoid (y·σ(y)). */
class GatedConv extends Module implements Layer {
  readonly unit: ReLUConvBN;

  constructor(spec: OpSpec) {
    super(spec.name);
    const { channels, stride, affine, rng } = spec;
    this.unit = this.addChild('unit', (n) => new ReLUConvBN(n, { inChannels: channels, outChannels: channels, kernelSize: 1, stride, affine, rng }));
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const y = this.unit.apply(x);
      return tf.mul(y, tf.sigmoid(y));
    });
  }
}

function userGenotype(op: string): Genotype {
  return {
    format: GENOTYPE_FORMAT,
    version: GENOTYPE_VERSION,
    name: 'user',
    cell: [
      [
        { op, input: 'prev' },
        { op: 'sep_conv_3x3', input: 'prev_prev' },
      ],
      [
        { op, input: 'block1' },
        { op: 'skip_connect', input: 'prev' },
      ],
      [
        { op: 'dil_conv_3x3', input: 'block2' },
        { op, input: 'prev_prev' },
      ],
    ],
    path: [4, 8, 16, 8, 4],
  };
}

describe('exportOnnx with user ops', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    registerOp('gated_conv', (spec) => new GatedConv(spec));
    registerOp('unmapped_op', (spec) => new GatedConv(spec));
    // The mapping: the helper for the module it contains, and plain ONNX nodes for the gate.
    registerOnnxMapping('gated_conv', ({ op, input, graph }) => {
      const unit = (op as GatedConv).unit;
      const y = emitReLUConvBN(graph, unit, input);
      return graph.node('Mul', [y, graph.node('Sigmoid', [y], {}, op.name)], {}, op.name);
    });
  });

  afterAll(() => {
    unregisterOp('gated_conv');
    unregisterOp('unmapped_op');
    unregisterOnnxMapping('gated_conv');
  });

  it('a user op with a registered mapping (at strides 1 and 2) equals the forward, NHWC and dynamic size', async () => {
    const network = buildNetwork(userGenotype('gated_conv'), { filterMultiplier: 4, numClasses: 5, ...TINY, seed: 5 });
    randomizeInferenceState(network, 6);
    const x = randomImages([2, 41, 70, 3], 7);
    const expected = await forwardNhwc(network, x);
    const { data, dims } = await runOnnx(await exportOnnx(network, { layout: 'NHWC' }), Float32Array.from(await x.data()), x.shape);
    expect(dims).toEqual([2, 41, 70, 5]);
    expect(relativeError(data, expected)).toBeLessThan(TOLERANCE);
    // And NCHW with a fixed size, from the same network.
    const fixed = await runOnnx(
      await exportOnnx(network, { height: 41, width: 70 }),
      transposeLayout(Float32Array.from(await x.data()), x.shape, true),
      [2, 3, 41, 70],
    );
    expect(relativeError(transposeLayout(fixed.data, fixed.dims, false), expected)).toBeLessThan(TOLERANCE);
    x.dispose();
    network.dispose();
  });

  it('an op without a mapping is a UserInputError naming it and how to register one', async () => {
    expect(hasOnnxMapping('unmapped_op')).toBe(false);
    const network = buildNetwork(userGenotype('unmapped_op'), { filterMultiplier: 4, numClasses: 2, ...TINY });
    const before = tf.memory().numTensors;
    const error = await exportOnnx(network).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as Error).message).toMatch(/no ONNX mapping for op 'unmapped_op'/);
    expect((error as Error).message).toMatch(/registerOnnxMapping\('unmapped_op', \(ctx\) => …\) from @autodeeplab\/export/);
    expect(tf.memory().numTensors).toBe(before);
    network.dispose();
  });

  it('refuses to register a mapping twice without override', () => {
    expect(() => registerOnnxMapping('sep_conv_3x3', ({ input }) => input)).toThrow(/already has an ONNX mapping; pass \{ override: true \}/);
  });
});
