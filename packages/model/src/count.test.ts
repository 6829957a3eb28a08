import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import { builtinGenotype } from '@autodeeplab/genotype';
import { BatchNorm, Module, type Rng } from '@autodeeplab/core';
import { registerOp, unregisterOp } from '@autodeeplab/ops';
import { buildNetwork, countMultiAdds, countParameters } from './index.js';
import { TINY, allOpsGenotype, randomImages } from './testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** Paper, Table 2 (Cityscapes, 19 classes). */
const TABLE2 = [
  { preset: 'S', params: 10.15, multiAdds: 333.25 },
  { preset: 'M', params: 21.62, multiAdds: 460.93 },
  { preset: 'L', params: 44.42, multiAdds: 695.03 },
] as const;

describe('parameter counts (paper Table 2)', () => {
  for (const row of TABLE2) {
    it(`Auto-DeepLab-${row.preset}: the built network has ${row.params}M parameters`, () => {
      const genotype = builtinGenotype('paper');
      const network = buildNetwork(genotype, { preset: row.preset, numClasses: 19, name: `table2_${row.preset}` });
      try {
        // Counted from the network's variables (no forward pass, no activations allocated).
        const fromVariables = network.parameterCount();
        expect(Math.round(fromVariables / 1e4) / 100).toBe(row.params);
        expect(countParameters(genotype, { preset: row.preset, numClasses: 19 })).toBe(fromVariables);
      } finally {
        network.dispose();
      }
    });
  }
});

describe('Multi-Adds (paper Table 2)', () => {
  for (const row of TABLE2) {
    it(`Auto-DeepLab-${row.preset}: within 5% of ${row.multiAdds}B at 1025×2049`, () => {
      const { total } = countMultiAdds(builtinGenotype('paper'), { preset: row.preset, numClasses: 19 }, { height: 1025, width: 2049 });
      expect(Math.abs(total / 1e9 / row.multiAdds - 1)).toBeLessThan(0.05);
    });
  }

  it('equals the conv multiply-adds traced from the kernels of a real forward pass', async () => {
    // 64×64 keeps every feature size even, so the space-to-batch atrous convs need no padding and
    // the kernels compute exactly Hout·Wout outputs. Path: down, down, up, down, down, up (ends at 16).
    const genotype = allOpsGenotype([4, 8, 16, 8, 16, 32, 16]);
    const options = { filterMultiplier: 2, numClasses: 3, ...TINY, asppRates: [2], name: 'traced' };
    const network = buildNetwork(genotype, options);
    const x = randomImages([1, 64, 64, 3], 1);
    const traced = await tracedConvMultiAdds(() => network.forward(x).dispose());
    const counted = countMultiAdds(genotype, options, { height: 64, width: 64 });
    expect(traced).toBeGreaterThan(0);
    expect(counted.total).toBe(traced);
    x.dispose();
    network.dispose();
  });

  it('counting dilated convs as TensorFlow 1.x runs them (space-to-batch) closes most of the gap: within 2%', () => {
    for (const row of TABLE2) {
      const options = { preset: row.preset, numClasses: 19 };
      const exact = countMultiAdds(builtinGenotype('paper'), options, { height: 1025, width: 2049 });
      const tf1 = countMultiAdds(builtinGenotype('paper'), options, { height: 1025, width: 2049, spaceToBatchAtrous: true });
      expect(tf1.stem).toBe(exact.stem);
      expect(tf1.decoder).toBe(exact.decoder);
      expect(tf1.total).toBeGreaterThan(exact.total);
      expect(Math.abs(tf1.total / 1e9 / row.multiAdds - 1)).toBeLessThan(0.02);
    }
  });

  it('space-to-batch counts of the cells equal the conv MACs traced at odd sizes (the ops run atrous convs that way)', async () => {
    // 65×97: odd feature sizes, so the rate-2 convs of the cells run on padded phases; the ASPP's
    // dilated convs are native (exact), as are stem and decoder.
    const genotype = allOpsGenotype([4, 8, 16, 8, 16, 32, 16]);
    const options = { filterMultiplier: 2, numClasses: 3, ...TINY, asppRates: [2], name: 'traced_odd' };
    const network = buildNetwork(genotype, options);
    const x = randomImages([1, 65, 97, 3], 1);
    const traced = await tracedConvMultiAdds(() => network.forward(x).dispose());
    const exact = countMultiAdds(genotype, options, { height: 65, width: 97 });
    const tf1 = countMultiAdds(genotype, options, { height: 65, width: 97, spaceToBatchAtrous: true });
    const sum = (a: number[]) => a.reduce((p, q) => p + q, 0);
    expect(sum(tf1.cells)).toBeGreaterThan(sum(exact.cells));
    expect(traced).toBe(exact.stem + sum(tf1.cells) + exact.aspp + exact.decoder);
    x.dispose();
    network.dispose();
  });

  it('asks for the cost of an op it does not know', () => {
    registerOp('my_conv_count', (spec) => new UserConv(spec.name, spec.channels, spec.rng), { kind: 'conv' });
    try {
      const genotype = builtinGenotype('paper');
      genotype.cell[0]![0]!.op = 'my_conv_count';
      expect(() => countMultiAdds(genotype, { preset: 'S', numClasses: 19 }, { height: 65, width: 65 })).toThrow(/my_conv_count.*opMultiAdds/);
      const withCost = countMultiAdds(
        genotype,
        { preset: 'S', numClasses: 19 },
        {
          height: 65,
          width: 65,
          opMultiAdds: (name, s) => (name === 'my_conv_count' ? s.outHeight * s.outWidth * s.channels * s.channels : undefined),
        },
      );
      expect(withCost.total).toBeGreaterThan(0);
    } finally {
      unregisterOp('my_conv_count');
    }
  });
});

/** Multiply-adds of the Conv2D and depthwise kernels that `run` executes (batch included). */
async function tracedConvMultiAdds(run: () => void): Promise<number> {
  let traced = 0;
  const profile = await tf.profile(run);
  for (const k of profile.kernels) {
    if (k.name === 'Conv2D') {
      // Batch included: space-to-batch atrous convs run on a batch of phases.
      const [n, h, w, cout] = k.outputShapes[0]!;
      const [kh, kw, cin] = k.inputShapes[1]!;
      traced += n! * h! * w! * cout! * kh! * kw! * cin!;
    } else if (k.name === 'DepthwiseConv2dNative') {
      const [n, h, w, c] = k.outputShapes[0]!;
      const [kh, kw] = k.inputShapes[1]!;
      traced += n! * h! * w! * c! * kh! * kw!;
    }
  }
  return traced;
}

/** A user op without a parameter formula: 1×1 conv (stride via slicing) + affine BN. */
class UserConv extends Module {
  readonly kernel: tf.Variable;
  readonly bn: BatchNorm;
  constructor(name: string, channels: number, rng: Rng) {
    super(name);
    this.kernel = this.addParameter('kernel', () => tf.tensor4d(rng.normals(channels * channels, 0.1), [1, 1, channels, channels]));
    this.bn = this.addChild('bn', (n) => new BatchNorm(n, { channels }));
  }
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.bn.apply(tf.conv2d(x, this.kernel as tf.Tensor4D, 1, 'same'));
  }
}

describe('user ops', () => {
  it('countParameters counts an op without a formula like the built network does', () => {
    registerOp('my_conv_params', (spec) => new UserConv(spec.name, spec.channels, spec.rng), { kind: 'conv' });
    try {
      const genotype = allOpsGenotype([4, 4, 8]);
      genotype.cell[3]![0]!.op = 'my_conv_params';
      const options = { filterMultiplier: 3, numClasses: 2, ...TINY };
      const network = buildNetwork(genotype, options);
      expect(countParameters(genotype, options)).toBe(network.parameterCount());
      network.dispose();
    } finally {
      unregisterOp('my_conv_params');
    }
  });
});
