import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backend.js';
import { TestRandom } from '../testing/random.js';

/**
 * Convolution gradients (regular and depthwise; strides, dilations up to the search ASPP rate 24,
 * 'same'/'valid', odd/even sizes): on cpu against central finite differences, and wasm (our kernels)
 * and webgpu against cpu. tfjs's per-kernel leak check (IS_TEST) is on throughout.
 */

interface Case {
  depthwise: boolean;
  k: number;
  stride: 1 | 2;
  dilation: number;
  pad: 'same' | 'valid';
  h: number;
  w: number;
  /** Depthwise channel multiplier (default 1). */
  mult?: number;
}

// A pairwise-style grid: every value of every axis appears for both conv types, in varied combinations.
// (tfjs forbids stride > 1 together with dilation > 1; 'valid' needs (k−1)·d + 1 ≤ size.)
const BASE: Array<Omit<Case, 'depthwise'>> = [
  { k: 3, stride: 1, dilation: 1, pad: 'same', h: 8, w: 7 },
  { k: 3, stride: 2, dilation: 1, pad: 'same', h: 9, w: 8 },
  { k: 5, stride: 1, dilation: 1, pad: 'valid', h: 9, w: 8 },
  { k: 5, stride: 2, dilation: 1, pad: 'same', h: 8, w: 9 },
  { k: 1, stride: 2, dilation: 1, pad: 'same', h: 7, w: 8 },
  { k: 1, stride: 1, dilation: 2, pad: 'valid', h: 8, w: 7 },
  { k: 3, stride: 2, dilation: 1, pad: 'valid', h: 8, w: 9 },
  { k: 3, stride: 1, dilation: 2, pad: 'same', h: 7, w: 8 },
  { k: 5, stride: 1, dilation: 2, pad: 'valid', h: 9, w: 10 },
  { k: 3, stride: 1, dilation: 24, pad: 'same', h: 9, w: 8 },
  { k: 5, stride: 1, dilation: 24, pad: 'same', h: 8, w: 9 },
  // Tall enough for rate 24 to reach the off-centre taps along the height.
  { k: 3, stride: 1, dilation: 24, pad: 'same', h: 26, w: 5 },
];
const CASES: Case[] = [
  ...BASE.map((c) => ({ ...c, depthwise: false })),
  ...BASE.map((c) => ({ ...c, depthwise: true })),
  { depthwise: true, k: 3, stride: 2, dilation: 1, pad: 'same', h: 8, w: 7, mult: 2 },
  { depthwise: true, k: 3, stride: 1, dilation: 2, pad: 'same', h: 7, w: 7, mult: 2 },
];

const BATCH = 2;
const IN_CH = 2;
const OUT_CH = 3;

interface Data {
  shapeX: [number, number, number, number];
  shapeF: [number, number, number, number];
  shapeY: [number, number, number, number];
  x: Float32Array;
  f: Float32Array;
  /** Fixed random weights of the scalar loss L = Σ y·w. */
  w: Float32Array;
}

function outSize(size: number, c: Case): number {
  return c.pad === 'same' ? Math.ceil(size / c.stride) : Math.ceil((size - (c.k - 1) * c.dilation) / c.stride);
}

function makeData(c: Case, seed: number): Data {
  const rng = new TestRandom(seed);
  const fOut = c.depthwise ? (c.mult ?? 1) : OUT_CH;
  const yCh = c.depthwise ? IN_CH * (c.mult ?? 1) : OUT_CH;
  const shapeX: Data['shapeX'] = [BATCH, c.h, c.w, IN_CH];
  const shapeF: Data['shapeF'] = [c.k, c.k, IN_CH, fOut];
  const shapeY: Data['shapeY'] = [BATCH, outSize(c.h, c), outSize(c.w, c), yCh];
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return { shapeX, shapeF, shapeY, x: rng.normals(size(shapeX)), f: rng.normals(size(shapeF)), w: rng.normals(size(shapeY)) };
}

function forward(c: Case, x: tf.Tensor4D, f: tf.Tensor4D): tf.Tensor4D {
  return c.depthwise ? tf.depthwiseConv2d(x, f, c.stride, c.pad, 'NHWC', c.dilation) : tf.conv2d(x, f, c.stride, c.pad, 'NHWC', c.dilation);
}

interface Result {
  y: Float32Array;
  dx: Float32Array;
  df: Float32Array;
}

/**
 * Forward values and the gradients of L = Σ y·w on the current backend; checks that nothing leaks.
 * Values are read asynchronously: webgpu has no synchronous reads in Node.
 */
async function run(c: Case, d: Data): Promise<Result> {
  const x = tf.tensor4d(d.x, d.shapeX);
  const f = tf.tensor4d(d.f, d.shapeF);
  const w = tf.tensor4d(d.w, d.shapeY);
  const before = tf.memory().numTensors;
  const y = forward(c, x, f);
  const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(forward(c, a as tf.Tensor4D, b as tf.Tensor4D), w)))([x, f]);
  const [yValues, dxValues, dfValues] = await Promise.all([y.data(), dx!.data(), df!.data()]);
  const result = { y: yValues as Float32Array, dx: dxValues as Float32Array, df: dfValues as Float32Array };
  tf.dispose([y, dx!, df!]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, f, w]);
  expect(Array.from(y.shape)).toEqual(d.shapeY);
  return result;
}

/** L(x, f) = Σ y·w accumulated in float64, so that only the float32 rounding of y itself enters. */
function loss(c: Case, d: Data, xv: Float32Array, fv: Float32Array): number {
  return tf.tidy(() => {
    const y = forward(c, tf.tensor4d(xv, d.shapeX), tf.tensor4d(fv, d.shapeF)).dataSync();
    let s = 0;
    for (let i = 0; i < y.length; i++) s += (y[i] as number) * (d.w[i] as number);
    return s;
  });
}

/**
 * Central differences. L is linear in every single coordinate (a convolution is linear in x for a
 * fixed f and vice versa), so (L(v+ε) − L(v−ε)) / 2ε has no truncation error at any ε: the only error
 * is float32 rounding of y (relative ~1e-7 per output, ≲1e-5 absolute in L at these sizes), which
 * ε = 1e-2 turns into ≲5e-4 in the derivative. Gradients here are O(1), and a wrong tap, shift or
 * transpose changes them by O(0.1–1), so |fd − g| ≤ 2e-3 + 1e-3·|g| is tight yet safe.
 */
const EPS = 1e-2;
const FD_ABS = 2e-3;
const FD_REL = 1e-3;

function expectFiniteDifferencesAgree(c: Case, d: Data, grad: Float32Array, which: 'x' | 'f', indices: number[]): void {
  const base = which === 'x' ? d.x : d.f;
  for (const i of indices) {
    const plus = Float32Array.from(base);
    const minus = Float32Array.from(base);
    plus[i] = (plus[i] as number) + EPS;
    minus[i] = (minus[i] as number) - EPS;
    const lp = which === 'x' ? loss(c, d, plus, d.f) : loss(c, d, d.x, plus);
    const lm = which === 'x' ? loss(c, d, minus, d.f) : loss(c, d, d.x, minus);
    // Use the actually representable step (float32 rounding of v ± ε).
    const fd = (lp - lm) / ((plus[i] as number) - (minus[i] as number));
    const g = grad[i] as number;
    if (Math.abs(fd - g) > FD_ABS + FD_REL * Math.abs(g)) {
      throw new Error(`d${which}[${i}]: finite difference ${fd} vs gradient ${g} (${JSON.stringify(c)})`);
    }
  }
}

/** Every filter coordinate, and a seeded sample of input coordinates (always including the corners). */
function sampleIndices(length: number, count: number, rng: TestRandom): number[] {
  if (length <= count) return Array.from({ length }, (_, i) => i);
  const set = new Set<number>([0, length - 1]);
  while (set.size < count) set.add(rng.int(length));
  return [...set];
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

const label = (c: Case) => `${c.depthwise ? 'depthwise' : 'conv'} k${c.k} s${c.stride} d${c.dilation} ${c.pad} ${c.h}x${c.w}${c.mult ? ` ×${c.mult}` : ''}`;

describe('convolution gradients', () => {
  const cpuResults = new Map<Case, Result>();
  let isTestBefore: boolean;

  beforeAll(() => {
    isTestBefore = tf.env().getBool('IS_TEST');
    // Makes the engine check, after every kernel, that no data ids other than the outputs were left behind.
    tf.env().set('IS_TEST', true);
  });
  afterAll(() => {
    tf.env().set('IS_TEST', isTestBefore);
  });

  it('has the per-kernel leak check really active (a leaky kernel throws)', async () => {
    await useBackend('cpu');
    tf.registerKernel({
      kernelName: 'AdlLeakProbe',
      backendName: 'cpu',
      kernelFunc: ({ backend }) => {
        const b = backend as unknown as { makeTensorInfo(shape: number[], dtype: string): tf.TensorInfo };
        b.makeTensorInfo([1], 'float32'); // leaked
        return b.makeTensorInfo([1], 'float32');
      },
    });
    try {
      expect(() => tf.engine().runKernel('AdlLeakProbe', {}, {})).toThrow(/internal memory leak/);
    } finally {
      tf.unregisterKernel('AdlLeakProbe', 'cpu');
    }
  });

  describe('cpu agrees with central finite differences', () => {
    beforeAll(async () => {
      await useBackend('cpu');
    });
    CASES.forEach((c, n) => {
      it(label(c), async () => {
        const d = makeData(c, 100 + n);
        const r = await run(c, d);
        cpuResults.set(c, r);
        const rng = new TestRandom(7 + n);
        expectFiniteDifferencesAgree(c, d, r.df, 'f', sampleIndices(d.f.length, 400, rng));
        expectFiniteDifferencesAgree(c, d, r.dx, 'x', sampleIndices(d.x.length, 40, rng));
      });
    });

    it('rate 24 on a tall input reaches the off-centre taps (non-zero filter gradient there)', async () => {
      const c = CASES.find((k) => !k.depthwise && k.dilation === 24 && k.h === 26) as Case;
      const r = cpuResults.get(c) ?? (await run(c, makeData(c, 100 + CASES.indexOf(c))));
      // Filter layout [3,3,IN,OUT]: row p = 0 (taps at −24 rows) must carry gradient.
      const rowZero = r.df.slice(0, 3 * IN_CH * OUT_CH);
      expect(maxAbs(rowZero)).toBeGreaterThan(1e-3);
    });
  });

  /**
   * wasm and webgpu against the cpu results above (finite differences need thousands of synchronous
   * reads, so they run on cpu only). Both are float32 with other summation orders (XNNPACK's blocked
   * kernels, webgpu's tiled shaders vs cpu's naive loops): agreement ~1e-6 relative; a wrong tap,
   * shift or transpose is off by O(max |value|).
   * webgpu runs twice: as users run it, and with WEBGPU_CPU_FORWARD off (as in tfjs's own webgpu tests),
   * where the small transposes, slices and reductions of the dilated gradients run as shaders too
   * instead of tfjs's cpu code.
   */
  const TOL = 1e-4;
  const RUNS = [
    { backend: 'wasm', title: 'wasm' },
    { backend: 'webgpu', title: 'webgpu' },
    { backend: 'webgpu', title: 'webgpu (every kernel a shader: WEBGPU_CPU_FORWARD off)', shadersOnly: true },
  ] as const;
  for (const { backend, title, ...options } of RUNS) {
    describe(`${title} agrees with the cpu analytic values and gradients`, () => {
      let cpuForwardBefore = true;
      beforeAll(async () => {
        await useBackend(backend);
        if ('shadersOnly' in options) {
          cpuForwardBefore = tf.env().getBool('WEBGPU_CPU_FORWARD');
          tf.env().set('WEBGPU_CPU_FORWARD', false);
        }
      });
      afterAll(() => {
        if ('shadersOnly' in options) tf.env().set('WEBGPU_CPU_FORWARD', cpuForwardBefore);
      });
      CASES.forEach((c, n) => {
        it(label(c), async () => {
          const d = makeData(c, 100 + n);
          const expected = cpuResults.get(c);
          if (expected == null) throw new Error('cpu reference missing (run the whole file)');
          const r = await run(c, d);
          for (const key of ['y', 'dx', 'df'] as const) {
            const difference = maxAbsDiff(r[key], expected[key]);
            const scale = Math.max(1, maxAbs(expected[key]));
            expect(difference, `${key}: max |${backend} − cpu| = ${difference} (scale ${scale})`).toBeLessThan(TOL * scale);
          }
        });
      });
    });
  }
});
