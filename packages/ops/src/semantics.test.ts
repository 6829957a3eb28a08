import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import { AtrousConv2d, DilConv, FactorizedReduce, SepConv, createOp, selectPhase } from './index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** Values 1, 2, … in row-major order, shape [1, h, w, 1]. */
function ramp(h: number, w: number): tf.Tensor4D {
  return tf.tensor4d(
    Float32Array.from({ length: h * w }, (_, i) => i + 1),
    [1, h, w, 1],
  );
}

function expectClose(actual: tf.Tensor, expected: tf.Tensor | number[], tolerance = 1e-5): void {
  const a = Array.from(actual.dataSync());
  const e = Array.isArray(expected) ? expected : Array.from(expected.dataSync());
  expect(a.length).toBe(e.length);
  a.forEach((v, i) => expect(Math.abs(v - e[i]!), `entry ${i}: ${v} vs ${e[i]}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(e[i]!))));
}

describe('avg_pool_3x3', () => {
  const avg = (stride: 1 | 2) => createOp('avg_pool_3x3', { name: `avg${stride}`, channels: 1, stride, affine: true, rng: new Rng(0) });

  it('does not count the padding (corner and edge by hand)', () => {
    const op = avg(1);
    const y = op.apply(ramp(4, 5)); // rows 1..5, 6..10, 11..15, 16..20
    const v = y.dataSync();
    expect(v[0]).toBeCloseTo((1 + 2 + 6 + 7) / 4, 6); // corner: 4 pixels
    expect(v[1]).toBeCloseTo((1 + 2 + 3 + 6 + 7 + 8) / 6, 6); // top edge: 6 pixels
    expect(v[6]).toBeCloseTo((1 + 2 + 3 + 6 + 7 + 8 + 11 + 12 + 13) / 9, 6); // interior: 9 pixels
    expect(v[19]).toBeCloseTo((14 + 15 + 19 + 20) / 4, 6); // opposite corner
    tf.dispose([y]);
    op.dispose();
  });

  it('places stride-2 windows as TensorFlow SAME (odd side centred on 0, 2, …; even side on 1, 3, …)', () => {
    const op = avg(2);
    const x = ramp(5, 4);
    const y = op.apply(x);
    const at = (r: number, c: number) => r * 4 + c + 1;
    const mean = (rows: number[], cols: number[]) => {
      const inside = rows.flatMap((r) => cols.filter((c) => c >= 0 && c < 4 && r >= 0 && r < 5).map((c) => at(r, c)));
      return inside.reduce((a, b) => a + b, 0) / inside.length;
    };
    const expected: number[] = [];
    for (const rc of [0, 2, 4]) for (const cc of [1, 3]) expected.push(mean([rc - 1, rc, rc + 1], [cc - 1, cc, cc + 1]));
    expectClose(y, expected);
    tf.dispose([x, y]);
    op.dispose();
  });

  it("has the exact gradient at the border (tfjs's own avgPool gradient divides by 9 there)", () => {
    const op = avg(1);
    const x = ramp(4, 5);
    const g = tf.grad((v: tf.Tensor) => tf.sum(op.apply(v as tf.Tensor4D)))(x);
    // x[0,0] lies in the windows centred at (0,0), (0,1), (1,0), (1,1) with 4, 6, 6, 9 pixels.
    const corner = 1 / 4 + 1 / 6 + 1 / 6 + 1 / 9;
    expect(g.dataSync()[0]).toBeCloseTo(corner, 6);
    // Characterisation of tfjs 4.22 (why the op does not use avgPool 'same'): the forward excludes the
    // padding but the gradient uses 1/9.
    const builtin = tf.grad((v: tf.Tensor) => tf.sum(tf.avgPool(v as tf.Tensor4D, 3, 1, 'same')))(x);
    expect(builtin.dataSync()[0]).toBeCloseTo(4 / 9, 6);
    tf.dispose([x, g, builtin]);
    op.dispose();
  });
});

describe('max_pool_3x3', () => {
  it('takes the window maximum, padding ignored (negative inputs at the corner)', () => {
    const op = createOp('max_pool_3x3', { name: 'max', channels: 1, stride: 1, affine: true, rng: new Rng(0) });
    const x = tf.neg(ramp(4, 5)) as tf.Tensor4D;
    const v = op.apply(x).dataSync();
    expect(v[0]).toBe(-1); // max of −1, −2, −6, −7, not a padded 0
    expect(v[19]).toBe(-14);
    tf.dispose(x);
    op.dispose();
  });
});

/** The k×k kernel with (rate − 1) zeros inserted between taps: size rate·(k − 1) + 1. */
function dilateKernel(kernel: tf.Tensor4D, rate: number): tf.Tensor4D {
  const [k, , cin, cout] = kernel.shape;
  const size = rate * (k - 1) + 1;
  const source = kernel.arraySync();
  const out = Array.from({ length: size }, () => Array.from({ length: size }, () => Array.from({ length: cin }, () => new Array<number>(cout).fill(0))));
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out[i * rate]![j * rate] = source[i]![j]!.map((row) => [...row]);
  return tf.tensor4d(out);
}

describe('AtrousConv2d', () => {
  const sizes: [number, number][] = [
    [5, 6],
    [7, 7],
    [6, 6],
    [3, 4],
    [9, 2],
  ];

  it.each([
    [3, 2],
    [5, 2],
    [3, 4],
  ])('k=%i rate=%i, stride 1: equals tfjs conv2d with dilation', (k, rate) => {
    const conv = new AtrousConv2d('a', { inChannels: 3, outChannels: 2, kernelSize: k, rate, rng: new Rng(1) });
    for (const [h, w] of sizes) {
      const x = tf.randomNormal([2, h, w, 3], 0, 1, 'float32', h * 10 + w) as tf.Tensor4D;
      const y = conv.apply(x);
      const reference = tf.conv2d(x, conv.kernel as tf.Tensor4D, 1, 'same', 'NHWC', rate);
      expect(y.shape).toEqual([2, h, w, 2]);
      expectClose(y, reference);
      tf.dispose([x, y, reference]);
    }
    conv.dispose();
  });

  it.each([
    [3, 2],
    [5, 2],
    [3, 4],
  ])('k=%i rate=%i, stride 2: equals a stride-2 SAME conv with the zero-dilated kernel', (k, rate) => {
    const conv = new AtrousConv2d('a', { inChannels: 3, outChannels: 2, kernelSize: k, rate, stride: 2, rng: new Rng(1) });
    const dilated = dilateKernel(conv.kernel as tf.Tensor4D, rate);
    for (const [h, w] of sizes) {
      const x = tf.randomNormal([2, h, w, 3], 0, 1, 'float32', h * 10 + w) as tf.Tensor4D;
      const y = conv.apply(x);
      const reference = tf.conv2d(x, dilated, 2, 'same');
      expect(y.shape).toEqual([2, Math.ceil(h / 2), Math.ceil(w / 2), 2]);
      expectClose(y, reference);
      tf.dispose([x, y, reference]);
    }
    tf.dispose(dilated);
    conv.dispose();
  });

  it('rejects stride 2 with an odd rate > 1', () => {
    expect(() => new AtrousConv2d('bad', { inChannels: 1, outChannels: 1, kernelSize: 3, rate: 3, stride: 2, rng: new Rng(0) })).toThrow(/even rate/);
  });
});

describe('selectPhase', () => {
  it('is x[:, a::2, b::2, :] for odd and even sizes', () => {
    for (const [h, w] of [
      [5, 4],
      [4, 5],
      [1, 1],
      [6, 6],
    ] as const) {
      const x = tf.randomNormal([2, h, w, 3], 0, 1, 'float32', 5);
      const values = x.arraySync() as number[][][][];
      for (const a of [0, 1] as const) {
        for (const b of [0, 1] as const) {
          const y = selectPhase(x as tf.Tensor4D, a, b);
          const expected = values.map((img) =>
            Array.from({ length: Math.ceil(h / 2) }, (_, i) => Array.from({ length: Math.ceil(w / 2) }, (_, j) => img[2 * i + a]?.[2 * j + b] ?? [0, 0, 0])),
          );
          expect(y.arraySync()).toEqual(expected);
          y.dispose();
        }
      }
      x.dispose();
    }
  });
});

describe('FactorizedReduce (skip_connect at stride 2)', () => {
  it.each([
    [5, 4],
    [4, 4],
    [3, 5],
  ])('matches a brute-force computation on %i×%i (odd channel split)', (h, w) => {
    const c = 3;
    const op = createOp('skip_connect', { name: 'fr', channels: c, stride: 2, affine: true, rng: new Rng(3) }) as FactorizedReduce;
    expect(op).toBeInstanceOf(FactorizedReduce);
    op.eval(); // running statistics 0 / 1: BN is x / sqrt(1 + ε)
    const x = tf.randomNormal([2, h, w, c], 0, 1, 'float32', 9);
    const xs = x.arraySync() as number[][][][];
    const k1 = (op.conv1.kernel.arraySync() as number[][][][])[0]![0]!; // [c, 1]
    const k2 = (op.conv2.kernel.arraySync() as number[][][][])[0]![0]!; // [c, 2]
    const relu = (v: number) => Math.max(v, 0);
    const pixel = (n: number, r: number, col: number) => (r < h && col < w ? xs[n]![r]![col]!.map(relu) : [0, 0, 0]);
    const expected: number[] = [];
    for (let n = 0; n < 2; n++)
      for (let i = 0; i < Math.ceil(h / 2); i++)
        for (let j = 0; j < Math.ceil(w / 2); j++) {
          const p = pixel(n, 2 * i, 2 * j);
          const q = pixel(n, 2 * i + 1, 2 * j + 1);
          const out = [
            p.reduce((s, v, ci) => s + v * k1[ci]![0]!, 0),
            q.reduce((s, v, ci) => s + v * k2[ci]![0]!, 0),
            q.reduce((s, v, ci) => s + v * k2[ci]![1]!, 0),
          ];
          expected.push(...out.map((v) => v / Math.sqrt(1 + 1e-5)));
        }
    const y = op.apply(x as tf.Tensor4D);
    expect(y.shape).toEqual([2, Math.ceil(h / 2), Math.ceil(w / 2), c]);
    expectClose(y, expected);
    tf.dispose([x, y]);
    op.dispose();
  });
});

describe('conv ops are built as the paper says', () => {
  it('sep_conv_3x3 stride 2: (ReLU → strided depthwise → pointwise → BN) then (ReLU → depthwise → pointwise → BN)', () => {
    const op = createOp('sep_conv_3x3', { name: 'sep', channels: 4, stride: 2, affine: true, rng: new Rng(5) }) as SepConv;
    expect(op).toBeInstanceOf(SepConv);
    op.eval();
    const x = tf.randomNormal([2, 5, 6, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const bn = (v: tf.Tensor4D) => tf.div(v, Math.sqrt(1 + 1e-5)) as tf.Tensor4D; // eval BN at init
    const dw = (v: tf.Tensor4D, k: tf.Variable, s: 1 | 2) => tf.depthwiseConv2d(v, k as tf.Tensor4D, s, 'same');
    const pw = (v: tf.Tensor4D, k: tf.Variable) => tf.conv2d(v, k as tf.Tensor4D, 1, 'same');
    const first = bn(pw(dw(tf.relu(x), op.dw1.kernel, 2), op.pw1.kernel));
    const expected = bn(pw(dw(tf.relu(first), op.dw2.kernel, 1), op.pw2.kernel));
    expect(op.dw1.kernel.shape).toEqual([3, 3, 4, 1]);
    expectClose(op.apply(x), expected);
    op.dispose();
  });

  it('dil_conv_5x5: ReLU → regular 5×5 conv, dilation 2 → BN', () => {
    const op = createOp('dil_conv_5x5', { name: 'dil', channels: 3, stride: 1, affine: true, rng: new Rng(6) }) as DilConv;
    expect(op).toBeInstanceOf(DilConv);
    op.eval();
    expect(op.conv.kernel.shape).toEqual([5, 5, 3, 3]);
    const x = tf.randomNormal([1, 7, 6, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const expected = tf.div(tf.conv2d(tf.relu(x), op.conv.kernel as tf.Tensor4D, 1, 'same', 'NHWC', 2), Math.sqrt(1 + 1e-5));
    expectClose(op.apply(x), expected);
    op.dispose();
  });
});

describe('none and skip_connect at stride 1', () => {
  it('none allocates only its zero result: one new tensor, no kernel', async () => {
    const op = createOp('none', { name: 'zero', channels: 3, stride: 2, affine: false, rng: new Rng(0) });
    const x = tf.ones([2, 5, 4, 3]) as tf.Tensor4D;
    let y: tf.Tensor | undefined;
    const profile = await tf.profile(() => {
      y = op.apply(x);
      return y;
    });
    expect(profile.newTensors).toBe(1);
    expect(profile.kernels).toEqual([]);
    expect(y!.shape).toEqual([2, 3, 2, 3]);
    expect(Array.from(y!.dataSync()).every((v) => v === 0)).toBe(true);
    expect(op.parameterCount()).toBe(0);
    expect(op.stateDict().size).toBe(0);
    tf.dispose([x, y!]);
    op.dispose();
  });

  it('skip_connect at stride 1 returns its input tensor itself', () => {
    const op = createOp('skip_connect', { name: 'id', channels: 3, stride: 1, affine: false, rng: new Rng(0) });
    const x = tf.ones([1, 3, 3, 3]) as tf.Tensor4D;
    expect(op.apply(x)).toBe(x);
    x.dispose();
    op.dispose();
  });
});
