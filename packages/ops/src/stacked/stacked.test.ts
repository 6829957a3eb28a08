import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm, Conv2d, Module, Rng, initBackend, watchKernels } from '@autodeeplab/core';
import {
  BUILTIN_OPS,
  applyEach,
  applyStacked,
  batchNormalize,
  concatSliceGrad,
  createOp,
  stackKernels,
  stackedPointwiseOptions,
  getStackedForm,
  isZeroOp,
  registerOp,
  registerStackedForm,
  unregisterOp,
  type Op,
  type StackInput,
} from '../index.js';
import { normalTensor } from '../testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const maxAbs = (t: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]!);

describe('batchNormalize', () => {
  it('normalises each group of the batch with its own mean and biased variance (checked in float64)', () => {
    const x = normalTensor([4, 3, 2, 5], 1, 2).add(normalTensor([4, 1, 1, 5], 2, 3)) as tf.Tensor4D;
    const values = x.dataSync();
    for (const groups of [1, 2]) {
      const y = batchNormalize(x, { groups, epsilon: 1e-5 }).dataSync();
      const per = values.length / groups;
      for (let g = 0; g < groups; g++) {
        for (let c = 0; c < 5; c++) {
          const idx: number[] = [];
          for (let i = g * per + c; i < (g + 1) * per; i += 5) idx.push(i);
          const mean = idx.reduce((s, i) => s + values[i]!, 0) / idx.length;
          const variance = idx.reduce((s, i) => s + (values[i]! - mean) ** 2, 0) / idx.length;
          for (const i of idx) expect(y[i]!).toBeCloseTo((values[i]! - mean) / Math.sqrt(variance + 1e-5), 4);
        }
      }
    }
    x.dispose();
  });

  it('has the gradient of central finite differences (float64 loss, h = 1e-2)', () => {
    // L = Σ BN(x)·R. Tolerance 2e-3 absolute + 1e-2 relative: round-off of a float32 BN over 24
    // values per channel is ~1e-6 in L, i.e. ~1e-4 over 2h; truncation h²/6·|L'''| ≲ 1e-4 for these
    // O(1) values. A wrong term (a missing mean(dy) or mean(dy·y)) is off by O(1).
    const x = normalTensor([4, 3, 2, 2], 3) as tf.Tensor4D;
    const r = normalTensor([4, 3, 2, 2], 4).dataSync() as Float32Array;
    const rt = tf.tensor(r, x.shape);
    for (const groups of [1, 2]) {
      const loss = (t: tf.Tensor4D) => {
        const y = batchNormalize(t, { groups }).dataSync();
        let s = 0;
        for (let i = 0; i < y.length; i++) s += y[i]! * r[i]!;
        return s;
      };
      const analytic = tf
        .grad((t: tf.Tensor) => tf.sum(tf.mul(batchNormalize(t as tf.Tensor4D, { groups }), rt)))(x)
        .dataSync();
      const base = x.dataSync();
      const h = 1e-2;
      for (let i = 0; i < base.length; i++) {
        const plus = Float32Array.from(base);
        const minus = Float32Array.from(base);
        plus[i]! += h;
        minus[i]! -= h;
        const tp = tf.tensor4d(plus, x.shape);
        const tm = tf.tensor4d(minus, x.shape);
        const numeric = (loss(tp) - loss(tm)) / (2 * h);
        tf.dispose([tp, tm]);
        expect(Math.abs(numeric - analytic[i]!), `entry ${i}, groups ${groups}`).toBeLessThan(2e-3 + 1e-2 * Math.abs(analytic[i]!));
      }
    }
    tf.dispose([x, rt]);
  });

  it('matches autodiff through the core BatchNorm (train mode) to float32 round-off', () => {
    const bn = new BatchNorm('bn_ref', { channels: 3, affine: false });
    const x = normalTensor([2, 4, 3, 3], 5, 2) as tf.Tensor4D;
    const r = normalTensor([2, 4, 3, 3], 6);
    const g = (f: (t: tf.Tensor4D) => tf.Tensor4D) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t as tf.Tensor4D), r)))(x);
    const ours = g((t) => batchNormalize(t));
    const reference = g((t) => bn.apply(t));
    expect(maxAbs(tf.sub(ours, reference))).toBeLessThan(1e-4 * maxAbs(reference));
    tf.dispose([x, r, ours, reference]);
    bn.dispose();
  });

  it('gives the same values and gradients on wasm as on cpu (groups 1, 2, 3; wide and narrow channels)', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      await initBackend({ backend });
      return [1, 2, 3].flatMap((groups) =>
        [3, 40].map((channels) =>
          tf.tidy(() => {
            const x = normalTensor([6, 5, 4, channels], 20 + groups, 3).add(normalTensor([6, 1, 1, channels], 30 + channels, 2)) as tf.Tensor4D;
            const r = normalTensor([6, 5, 4, channels], 40 + groups);
            const y = batchNormalize(x, { groups });
            const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(batchNormalize(t as tf.Tensor4D, { groups }), r)))(x);
            return { y: y.dataSync(), dx: dx.dataSync() };
          }),
        ),
      );
    };
    const wasm = await run('wasm');
    const cpu = await run('cpu');
    wasm.forEach((w, i) => {
      for (const key of ['y', 'dx'] as const) {
        const worst = Math.max(...w[key].map((v, j) => Math.abs(v - cpu[i]![key][j]!)));
        expect(worst, `case ${i} ${key}`).toBeLessThan(1e-5);
      }
    });
  });

  it('rejects a batch that is not a multiple of the groups', () => {
    const x = tf.zeros([3, 2, 2, 1]) as tf.Tensor4D;
    expect(() => batchNormalize(x, { groups: 2 })).toThrow(/multiple of groups/);
    x.dispose();
  });
});

it('concatSliceGrad has the gradient of tf.concat (2 and 5 inputs), on every axis', () => {
  for (const count of [2, 5]) {
    for (const axis of [0, 1, 2]) {
      const shapes = Array.from({ length: count }, (_, i) => [2, 3, 4].map((n, k) => (k === axis ? 1 + (i % 3) : n)));
      const inputs = shapes.map((shape, i) => normalTensor(shape, 7 + i));
      const out = tf.concat(inputs, axis);
      const r = normalTensor(out.shape, 30);
      const grads = (f: (ts: tf.Tensor[]) => tf.Tensor) => tf.grads((...ts: tf.Tensor[]) => tf.sum(tf.mul(f(ts), r)))(inputs);
      const ours = grads((ts) => concatSliceGrad(ts, axis));
      const theirs = grads((ts) => tf.concat(ts, axis));
      const value = concatSliceGrad(inputs, axis);
      expect(Array.from(value.dataSync())).toEqual(Array.from(out.dataSync()));
      for (let i = 0; i < count; i++) expect(Array.from(ours[i]!.dataSync())).toEqual(Array.from(theirs[i]!.dataSync()));
      tf.dispose([...inputs, out, r, value, ...ours, ...theirs]);
    }
  }
});

it('stackKernels equals tf.concat on the input- and output-channel axes, values and gradients, small and large stacks', () => {
  // Rows of the split (see SMALL_STACK_ROWS): outer-axis path for [10, 5, 24, 24] (6,000), [10, 5, 300, 1]
  // on axis 3 (75,000) and [10, 11, 4, 1] on both axes (4,840 and 1,210); plain concat for the others.
  for (const [e, k, c, d] of [
    [10, 5, 24, 24],
    [3, 3, 4, 4],
    [10, 5, 300, 1],
    [10, 11, 4, 1],
  ] as const) {
    for (const axis of d === 1 ? ([2, 3] as const) : ([3] as const)) {
      const kernels = Array.from({ length: e }, (_, i) => normalTensor([k, k, c, d], 20 + i) as tf.Tensor4D);
      const outShape = tf.concat(kernels, axis).shape;
      const r = normalTensor(outShape, 40);
      const loss =
        (f: (...ts: tf.Tensor4D[]) => tf.Tensor) =>
        (...ts: tf.Tensor[]) =>
          tf.sum(tf.mul(f(...(ts as tf.Tensor4D[])), r));
      const ours = stackKernels(kernels, axis);
      const theirs = tf.concat(kernels, axis);
      expect(Array.from(ours.dataSync())).toEqual(Array.from(theirs.dataSync()));
      const g = tf.grads(loss((...ts) => stackKernels(ts, axis)))(kernels);
      const want = tf.grads(loss((...ts) => tf.concat(ts, axis)))(kernels);
      for (let i = 0; i < e; i++) expect(Array.from(g[i]!.dataSync())).toEqual(Array.from(want[i]!.dataSync()));
      tf.dispose([...kernels, r, ours, theirs, ...g, ...want]);
    }
  }
});

/** A user op without a stacked form: 3×3 conv → non-affine BN (its BN must see one group at a time). */
class ConvBnOp extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm;
  constructor(name: string, channels: number, rng: Rng) {
    super(name);
    this.conv = this.addChild('conv', (n) => new Conv2d(n, { inChannels: channels, outChannels: channels, kernelSize: 3, rng }));
    this.bn = this.addChild('bn', (n) => new BatchNorm(n, { channels, affine: false }));
  }
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.bn.apply(this.conv.apply(x));
  }
}

describe('stacked ops = each op on each group (cpu)', () => {
  const CUSTOM = 'test_stacked_fallback_op';
  beforeAll(() => registerOp(CUSTOM, (spec) => new ConvBnOp(spec.name, spec.channels, spec.rng), { kind: 'conv' }));
  afterAll(() => unregisterOp(CUSTOM));

  const names = [...BUILTIN_OPS.filter((n) => !isZeroOp(n)), CUSTOM];
  const C = 3;
  const E = 3;
  const GROUPS = 2;

  type Pointwise = (typeof stackedPointwiseOptions)['mode'];
  const cases = names.flatMap((name): { name: string; pointwise: Pointwise }[] =>
    name.startsWith('sep_conv') ? (['block-diagonal', 'per-edge'] as const).map((pointwise) => ({ name, pointwise })) : [{ name, pointwise: 'auto' }],
  );
  for (const { name, pointwise } of cases) {
    const title = `${name}${pointwise === 'auto' ? '' : ` (${pointwise} 1×1 convs)`}`;
    it(`${title}: same outputs and same gradients (input and every weight), ${E} edges, ${GROUPS} batch groups`, () => {
      stackedPointwiseOptions.mode = pointwise;
      const rng = new Rng(11);
      const ops: Op[] = Array.from({ length: E }, (_, e) => createOp(name, { name: `stack_${name}_${e}`, channels: C, stride: 1, affine: false, rng }));
      const x = normalTensor([GROUPS * 2, 6, 5, C], 12) as tf.Tensor4D;
      const params = ops.flatMap((op) => [...op.namedParameters().values()]);
      const xVar = tf.variable(x, true, `stack_input_${name}`);
      const run = (stacked: boolean) => {
        let out!: tf.Tensor;
        const { value, grads } = tf.variableGrads(() => {
          const xs: tf.Tensor4D = xVar;
          let y: tf.Tensor4D;
          if (stacked) {
            const input: StackInput = { x: xs, relu: () => tf.relu(xs), groups: GROUPS };
            const res = applyStacked(name, ops, input);
            y = res.shared
              ? tf.concat(
                  ops.map(() => res.y),
                  3,
                )
              : res.y;
          } else {
            // Reference: every op on every group on its own, outputs [G·N, H, W, E·C] edge-major.
            const groups = tf.split(xs, GROUPS, 0) as tf.Tensor4D[];
            y = tf.concat(
              groups.map((g) =>
                tf.concat(
                  ops.map((op) => op.apply(g)),
                  3,
                ),
              ),
              0,
            );
          }
          out = tf.keep(y);
          const r = normalTensor(y.shape, 13);
          return tf.sum(tf.mul(y, r)) as tf.Scalar;
        }, [xVar, ...params]);
        value.dispose();
        return { out, grads };
      };
      const stacked = run(true);
      const plain = run(false);
      expect(maxAbs(tf.sub(stacked.out, plain.out))).toBeLessThan(1e-5 * Math.max(1, maxAbs(plain.out)));
      // Float32 sums in another order: relative to the largest gradient of the case.
      const scale = Math.max(...[xVar, ...params].map((v) => maxAbs(plain.grads[v.name]!)));
      expect(scale).toBeGreaterThan(0);
      for (const v of [xVar, ...params]) {
        expect(maxAbs(tf.sub(stacked.grads[v.name]!, plain.grads[v.name]!)), v.name).toBeLessThan(1e-5 * scale);
      }
      if (name === CUSTOM) expect(getStackedForm(name)).toBeUndefined();
      else expect(getStackedForm(name)?.apply).toBeTypeOf('function');
      tf.dispose([stacked.out, plain.out, ...Object.values(stacked.grads), ...Object.values(plain.grads), x, xVar]);
      ops.forEach((op) => op.dispose());
      stackedPointwiseOptions.mode = 'auto';
    });
  }

  it('auto takes per-edge 1×1 convs only for wide channels (C ≥ 32, E·C ≥ 96)', () => {
    const countConvs = (channels: number, edges: number) => {
      const rng = new Rng(5);
      const ops = Array.from({ length: edges }, (_, e) => createOp('sep_conv_3x3', { name: `auto_${channels}_${e}`, channels, stride: 1, affine: false, rng }));
      const x = normalTensor([1, 3, 3, channels], 6) as tf.Tensor4D;
      let convs = 0;
      const stop = watchKernels({ before: (name) => void (name === 'Conv2D' && convs++) });
      try {
        tf.tidy(() => applyStacked('sep_conv_3x3', ops, { x, relu: () => tf.relu(x), groups: 1 }).y);
      } finally {
        stop();
        x.dispose();
        ops.forEach((op) => op.dispose());
      }
      return convs;
    };
    expect(countConvs(16, 5)).toBe(2);
    expect(countConvs(32, 2)).toBe(2);
    expect(countConvs(32, 3)).toBe(6);
    expect(countConvs(64, 2)).toBe(4);
  });

  it('falls back to each op on its own when the stacked form does not apply (affine BN)', () => {
    const rng = new Rng(3);
    const ops = [0, 1].map((e) => createOp('sep_conv_3x3', { name: `affine_${e}`, channels: 2, stride: 1, affine: true, rng }));
    const x = normalTensor([2, 4, 4, 2], 4) as tf.Tensor4D;
    const input: StackInput = { x, relu: () => tf.relu(x), groups: 1 };
    expect(getStackedForm('sep_conv_3x3')!.apply(ops, input)).toBeUndefined();
    const a = applyStacked('sep_conv_3x3', ops, input);
    const b = applyEach(ops, input);
    expect(maxAbs(tf.sub(a.y, b.y))).toBe(0);
    tf.dispose([x, a.y, b.y]);
    ops.forEach((op) => op.dispose());
  });
});

describe('stacked forms belong to their op registration', () => {
  const NAME = 'test_stacked_form_owner';
  afterAll(() => unregisterOp(NAME));

  it('needs the op registered, and no longer applies once the op is registered again', () => {
    const apply = () => undefined;
    expect(() => registerStackedForm(NAME, { apply })).toThrow(/register the op first/);
    registerOp(NAME, (spec) => new ConvBnOp(spec.name, spec.channels, spec.rng), { kind: 'conv' });
    registerStackedForm(NAME, { apply, replayedOutputs: { heavy: 1 } });
    expect(getStackedForm(NAME)).toMatchObject({ replayedOutputs: { heavy: 1 } });
    // Another factory under the same name: the old form (and its replay hint) would describe the wrong op.
    registerOp(NAME, (spec) => new ConvBnOp(spec.name, spec.channels, spec.rng), { kind: 'conv' }, { override: true });
    expect(getStackedForm(NAME)).toBeUndefined();
    registerStackedForm(NAME, { apply });
    expect(getStackedForm(NAME)?.replayedOutputs).toBeUndefined();
  });
});
