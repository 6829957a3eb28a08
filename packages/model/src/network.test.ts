import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm, Module, initBackend, type Rng } from '@autodeeplab/core';
import { builtinGenotype, type Scale } from '@autodeeplab/genotype';
import { registerOp, unregisterOp } from '@autodeeplab/ops';
import { buildNetwork, type Network } from './index.js';
import { TINY, allOpsGenotype, randomImages } from './testing.js';

function expectShapes(network: Network, height: number, width: number, warmUp = true): void {
  const x = randomImages([1, height, width, 3], height + width);
  // Warm-up: ops may cache per-size constants (avg_pool's border correction) on first use.
  if (warmUp) tf.dispose(network.forward(x));
  const before = tf.memory().numTensors;
  const f = network.features(x);
  const at = (s: number) => [Math.ceil(height / s), Math.ceil(width / s)];
  expect(f.stem[0].shape).toEqual([1, ...at(2), TINY.stemFilters[1]]);
  expect(f.stem[1].shape).toEqual([1, ...at(4), TINY.stemFilters[2]]);
  const F = network.config.filterMultiplier;
  const B = network.genotype.cell.length;
  network.genotype.path.forEach((s, i) => expect(f.cells[i]!.shape, `cell ${i}`).toEqual([1, ...at(s), (B * F * s) / 4]));
  expect(f.lowLevel.shape.slice(0, 3)).toEqual([1, ...at(4)]);
  expect(f.encoder.shape.slice(0, 3)).toEqual([1, ...at(8)]);
  expect(f.aspp.shape).toEqual([1, ...at(8), TINY.asppFilters]);
  expect(f.decoderLogits.shape).toEqual([1, ...at(4), network.config.numClasses]);
  expect(f.logits.shape).toEqual([1, height, width, network.config.numClasses]);
  const all = [...f.stem, ...f.cells, f.lowLevel, f.encoder, f.aspp, f.decoderLogits, f.logits];
  for (const t of all) expect(tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0])).toBe(1);
  tf.dispose(all);
  expect(tf.memory().numTensors).toBe(before);
  x.dispose();
}

describe('shapes (paper genotype, F = 2, tiny heads; wasm)', () => {
  let network: Network;
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    network = buildNetwork(builtinGenotype('paper'), { filterMultiplier: 2, numClasses: 5, ...TINY, name: 'shapes' });
    network.eval();
  });
  afterAll(() => network.dispose());

  for (const [h, w] of [
    [321, 321],
    [513, 513],
    [769, 769],
    [257, 385],
    [100, 150],
  ] as const) {
    it(`${h}×${w}: stride-4 feature, encoder, logits`, () => {
      // No warm-up needed: the paper's ops cache nothing.
      expectShapes(network, h, w, false);
      // The decoder reads cell index 2 (s = 4) of the paper's path.
      expect(network.plan.lowLevelCell).toBe(2);
    });
  }

  it('forward keeps no tensors in train mode either', () => {
    network.train();
    const x = randomImages([2, 65, 97, 3], 1);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) tf.dispose(network.forward(x));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    network.eval();
  });
});

describe('any decodable genotype builds and runs', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  const paths: Scale[][] = [
    [4, 4, 4], // ends at s = 4: the encoder is resized down to stride 8
    [4, 8, 16, 32, 32], // ends at s = 32
    [8, 16, 8, 4], // cells 0..2 at 8, 16, 8: the decoder reads the stem output (s = 4)
    [8, 8], // never at s = 4
    [4], // a single cell
  ];
  for (const path of paths) {
    it(`path [${path}] with every built-in op`, () => {
      const network = buildNetwork(allOpsGenotype(path), { filterMultiplier: 2, numClasses: 3, ...TINY, name: 'paths' });
      network.eval();
      expectShapes(network, 67, 45);
      const expectedLow = path.slice(0, 3).lastIndexOf(4);
      expect(network.plan.lowLevelCell).toBe(expectedLow);
      expect(network.plan.lowLevelChannels).toBe(expectedLow < 0 ? TINY.stemFilters[2] : 4 * 2);
      network.dispose();
    });
  }

  it('a user-registered op', () => {
    class Scaled extends Module {
      readonly bn: BatchNorm;
      constructor(
        name: string,
        channels: number,
        readonly stride: 1 | 2,
        _rng: Rng,
      ) {
        super(name);
        this.bn = this.addChild('bn', (n) => new BatchNorm(n, { channels }));
      }
      apply(x: tf.Tensor4D): tf.Tensor4D {
        return this.bn.apply(this.stride === 2 ? tf.avgPool(x, 2, 2, 'same') : x);
      }
    }
    registerOp('my_bn_op', (spec) => new Scaled(spec.name, spec.channels, spec.stride, spec.rng), { kind: 'conv' });
    try {
      const genotype = allOpsGenotype([4, 8, 8, 4]);
      genotype.cell[0]![0]!.op = 'my_bn_op';
      const network = buildNetwork(genotype, { filterMultiplier: 2, numClasses: 3, ...TINY, name: 'userop' });
      network.eval();
      expectShapes(network, 40, 56);
      expect(network.namedParameters().has('cell1/block1_left/bn/gamma')).toBe(true);
      network.dispose();
    } finally {
      unregisterOp('my_bn_op');
    }
  });

  it('rejects unknown ops, bad presets and bad inputs with clear errors', () => {
    const genotype = builtinGenotype('paper');
    genotype.cell[1]![1]!.op = 'no_such_op';
    expect(() => buildNetwork(genotype, { preset: 'S', numClasses: 19 })).toThrow(/unknown op 'no_such_op'/);
    expect(() => buildNetwork(builtinGenotype('paper'), { preset: 'X' as 'S', numClasses: 19 })).toThrow(/preset must be one of S, M, L/);
    expect(() => buildNetwork(builtinGenotype('paper'), { preset: 'S', filterMultiplier: 8, numClasses: 19 })).toThrow(/preset 'S' means filterMultiplier 20/);
    expect(() => buildNetwork(builtinGenotype('paper'), { numClasses: 19 })).toThrow(/filterMultiplier or preset/);
    expect(() => buildNetwork(builtinGenotype('paper'), { filterMultiplier: 2, numClasses: 0 })).toThrow(/numClasses/);
    const network = buildNetwork(allOpsGenotype([4]), { filterMultiplier: 2, numClasses: 3, ...TINY, name: 'bad_input' });
    expect(() => network.forward(tf.zeros([1, 8, 8, 1]))).toThrow(/3 channels, found shape \[1,8,8,1\]/);
    network.dispose();
  });
});

describe('training', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('one backward pass reaches every weight (paper genotype, F = 2, batch 2)', () => {
    const network = buildNetwork(builtinGenotype('paper'), { filterMultiplier: 2, numClasses: 3, ...TINY, name: 'grads' });
    const x = randomImages([2, 33, 33, 3], 2);
    const labels = tf.tidy(() => tf.oneHot(tf.randomUniform([2, 33, 33], 0, 3, 'int32', 3) as tf.Tensor3D, 3));
    const named = network.namedParameters();
    const { grads, value } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, network.forward(x)) as tf.Scalar, [...named.values()]);
    const zero: string[] = [];
    for (const [path, variable] of named) {
      const g = grads[variable.name];
      const norm = g ? tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]!) : 0;
      if (!(norm > 0) || !Number.isFinite(norm)) zero.push(path);
    }
    expect(zero).toEqual([]);
    expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
    tf.dispose([value, ...Object.values(grads), x, labels]);
    network.dispose();
  });
});
