import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useWasmWithLeakCheck } from '../testing/leak-check.js';
import { useBackend } from '../testing/backend.js';
import { TestRandom } from '../testing/random.js';
import { kernelPathCounts } from '../path-counts.js';
import { kernelTuning } from '../tuning.js';

/**
 * wasm Conv2D with 1×1 filters at stride 1 through the SIMD outer products (Co a multiple of 4),
 * against a float64 evaluation of y[p, o] = Σ_c x[p, c]·W[c, o]; and which shapes leave it (other
 * Co, filters, strides, explicit pads) for the backend's own kernel, whose result must agree too.
 */

interface Case {
  shape: [number, number, number, number];
  filter: [number, number, number, number];
  stride?: number;
  pad?: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
}

function bruteForce(c: Case, x: Float32Array, w: Float32Array): Float64Array {
  const [n, h, wd, ci] = c.shape;
  const co = c.filter[3];
  const y = new Float64Array(n * h * wd * co);
  for (let p = 0; p < n * h * wd; p++)
    for (let o = 0; o < co; o++) {
      let s = 0;
      for (let k = 0; k < ci; k++) s += (x[p * ci + k] as number) * (w[k * co + o] as number);
      y[p * co + o] = s;
    }
  return y;
}

function run(c: Case, seed: number): { y: Float32Array; x: Float32Array; w: Float32Array } {
  const rng = new TestRandom(seed);
  const x = rng.normals(c.shape.reduce((a, b) => a * b, 1));
  const w = rng.normals(c.filter.reduce((a, b) => a * b, 1));
  const y = tf.tidy(() => tf.conv2d(tf.tensor4d(x, c.shape), tf.tensor4d(w, c.filter), (c.stride ?? 1) as 1, c.pad ?? 'same'));
  const values = y.dataSync() as Float32Array;
  y.dispose();
  return { y: values, x, w };
}

/** The same convolution on the cpu backend (the reference for the cases ours leaves to XNNPACK). */
async function onCpu(c: Case, seed: number): Promise<Float32Array> {
  await useBackend('cpu');
  try {
    return run(c, seed).y;
  } finally {
    await useBackend('wasm');
  }
}

function expectClose(got: Float32Array, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  let scale = 1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i] as number));
  for (let i = 0; i < got.length; i++) {
    if (Math.abs((got[i] as number) - (want[i] as number)) > 1e-5 * scale) throw new Error(`y[${i}] = ${got[i]}, expected ${want[i]}`);
  }
}

const SIMD_CASES: Case[] = [
  { shape: [2, 9, 7, 8], filter: [1, 1, 8, 8] },
  { shape: [1, 5, 6, 3], filter: [1, 1, 3, 4] },
  { shape: [3, 4, 4, 40], filter: [1, 1, 40, 8] },
  { shape: [2, 6, 5, 17], filter: [1, 1, 17, 12], pad: 'valid' },
  { shape: [1, 3, 3, 64], filter: [1, 1, 64, 320] },
];

const BACKEND_CASES: Case[] = [
  { shape: [2, 6, 6, 8], filter: [1, 1, 8, 6] },
  { shape: [2, 6, 6, 8], filter: [3, 3, 8, 8] },
  { shape: [2, 7, 7, 8], filter: [1, 1, 8, 8], stride: 2 },
  {
    shape: [1, 5, 5, 4],
    filter: [1, 1, 4, 8],
    pad: [
      [0, 0],
      [1, 0],
      [0, 1],
      [0, 0],
    ],
  },
];

describe('wasm pointwise Conv2D', () => {
  useWasmWithLeakCheck();

  SIMD_CASES.forEach((c, i) => {
    it(`SIMD path: [${c.shape}] × [${c.filter}] matches the float64 definition`, () => {
      const before = { ...kernelPathCounts.pointwiseConv };
      const { y, x, w } = run(c, 300 + i);
      expect(kernelPathCounts.pointwiseConv.simd).toBe(before.simd + 1);
      expect(kernelPathCounts.pointwiseConv.backend).toBe(before.backend);
      expectClose(y, bruteForce(c, x, w));
    });
  });

  BACKEND_CASES.forEach((c, i) => {
    it(`backend path: [${c.shape}] × [${c.filter}] stride ${c.stride ?? 1} pad ${JSON.stringify(c.pad ?? 'same')} equals cpu`, async () => {
      const before = { ...kernelPathCounts.pointwiseConv };
      const { y } = run(c, 400 + i);
      expect(kernelPathCounts.pointwiseConv.simd).toBe(before.simd);
      expect(kernelPathCounts.pointwiseConv.backend).toBe(before.backend + 1);
      expectClose(y, await onCpu(c, 400 + i));
    });
  });

  it("'never' leaves it to the backend, with the same result", () => {
    const c = SIMD_CASES[0] as Case;
    const simd = run(c, 500).y;
    kernelTuning.pointwiseConvSimd = 'never';
    try {
      const before = kernelPathCounts.pointwiseConv.backend;
      expectClose(run(c, 500).y, simd);
      expect(kernelPathCounts.pointwiseConv.backend).toBe(before + 1);
    } finally {
      kernelTuning.pointwiseConvSimd = 'auto';
    }
  });

  it('gradients through it equal the float64 ones (autodiff uses the gradient kernels, not this one)', () => {
    const c = SIMD_CASES[3] as Case;
    const rng = new TestRandom(600);
    const xv = rng.normals(c.shape.reduce((a, b) => a * b, 1));
    const wv = rng.normals(c.filter.reduce((a, b) => a * b, 1));
    const [n, h, wd, ci] = c.shape;
    const co = c.filter[3];
    const dyv = rng.normals(n * h * wd * co);
    const [dx, dw] = tf.tidy(() => {
      const dy = tf.tensor4d(dyv, [n, h, wd, co]);
      return tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), dy)))([
        tf.tensor4d(xv, c.shape),
        tf.tensor4d(wv, c.filter),
      ]);
    }) as [tf.Tensor, tf.Tensor];
    const wantDx = new Float64Array(xv.length);
    const wantDw = new Float64Array(wv.length);
    for (let p = 0; p < n * h * wd; p++)
      for (let k = 0; k < ci; k++)
        for (let o = 0; o < co; o++) {
          wantDx[p * ci + k] = (wantDx[p * ci + k] as number) + (dyv[p * co + o] as number) * (wv[k * co + o] as number);
          wantDw[k * co + o] = (wantDw[k * co + o] as number) + (xv[p * ci + k] as number) * (dyv[p * co + o] as number);
        }
    expectClose(dx.dataSync() as Float32Array, wantDx);
    expectClose(dw.dataSync() as Float32Array, wantDw);
    tf.dispose([dx, dw]);
  });
});
