import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useWasmWithLeakCheck } from '../testing/leak-check.js';
import { TestRandom } from '../testing/random.js';
import { convGeometry, type ConvPad } from '../conv/geometry.js';
import { kernelPathCounts } from '../path-counts.js';
import { kernelTuning } from '../tuning.js';
import { simdModuleBytes } from '../wasm-simd/module.js';
import { convFilterGradPrefersSimd } from './conv2d-backprop-filter.js';
import { convInputGradPrefersSimd } from './conv2d-backprop-input.js';

/**
 * The wasm regular filter and input gradients: the SIMD outer products over the heap (filter
 * gradient: Co a multiple of 4, its 4×8, 4×4, 1×8 and 1×4 channel blocks, tall wide images split
 * into several calls; input gradient: Ci a multiple of 4, runs of pixels per row or whole images)
 * and the XNNPACK fallbacks (other channel counts, or forced), against a brute-force float64
 * evaluation of the definition with per-pixel bounds tests (independent of the per-tap valid ranges).
 * Sizes odd/even, strides 1/2, dilations 1/2 (dilated convolutions reach the kernel through our
 * gradient of Conv2D), 'same'/'valid'/explicit pads, 1–3 images. tfjs's leak check (IS_TEST) is on.
 */

type Pad = 'same' | 'valid' | [[number, number], [number, number]];

interface Case {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  stride: number;
  dilation: number;
  pad: Pad;
}

const SIMD_CASES: Case[] = [
  { n: 2, h: 9, w: 7, ci: 4, co: 8, k: 3, stride: 1, dilation: 1, pad: 'same' },
  { n: 1, h: 8, w: 9, ci: 3, co: 4, k: 5, stride: 2, dilation: 1, pad: 'same' },
  { n: 3, h: 11, w: 10, ci: 5, co: 12, k: 3, stride: 2, dilation: 1, pad: 'valid' },
  { n: 2, h: 10, w: 11, ci: 8, co: 20, k: 3, stride: 1, dilation: 2, pad: 'same' },
  { n: 2, h: 13, w: 12, ci: 6, co: 16, k: 5, stride: 1, dilation: 2, pad: 'valid' },
  { n: 1, h: 7, w: 13, ci: 1, co: 4, k: 3, stride: 1, dilation: 5, pad: 'same' },
  { n: 2, h: 6, w: 5, ci: 9, co: 8, k: 1, stride: 2, dilation: 1, pad: 'same' },
  { n: 2, h: 7, w: 6, ci: 8, co: 8, k: 1, stride: 1, dilation: 1, pad: 'same' },
  { n: 2, h: 5, w: 5, ci: 64, co: 64, k: 3, stride: 1, dilation: 1, pad: 'same' },
  {
    n: 2,
    h: 5,
    w: 5,
    ci: 20,
    co: 36,
    k: 3,
    stride: 2,
    dilation: 1,
    pad: [
      [1, 2],
      [0, 1],
    ],
  },
  {
    n: 1,
    h: 9,
    w: 8,
    ci: 7,
    co: 12,
    k: 3,
    stride: 1,
    dilation: 2,
    pad: [
      [2, 0],
      [3, 1],
    ],
  },
  // Wide and tall enough that each tap is split into several calls (row blocks).
  { n: 1, h: 24, w: 64, ci: 32, co: 64, k: 3, stride: 1, dilation: 1, pad: 'same' },
];

const FALLBACK_CASES: Case[] = [
  // dW falls back, dx takes the SIMD path (any Co).
  { n: 2, h: 9, w: 8, ci: 4, co: 6, k: 3, stride: 2, dilation: 1, pad: 'same' },
  { n: 1, h: 6, w: 7, ci: 12, co: 5, k: 5, stride: 1, dilation: 1, pad: 'valid' },
  // Both fall back.
  { n: 2, h: 7, w: 9, ci: 5, co: 3, k: 3, stride: 1, dilation: 2, pad: 'same' },
];

function span(c: Case): number {
  return (c.k - 1) * c.dilation + 1;
}

/** Output size and padding before the data along one axis (TensorFlow's rules; 'same' puts the odd pixel after). */
function axis(size: number, c: Case, a: 0 | 1): { out: number; before: number } {
  if (c.pad === 'same') {
    const out = Math.ceil(size / c.stride);
    return { out, before: Math.floor(Math.max(0, (out - 1) * c.stride + span(c) - size) / 2) };
  }
  const [before, after] = c.pad === 'valid' ? [0, 0] : c.pad[a];
  return { out: Math.floor((size + before + after - span(c)) / c.stride) + 1, before };
}

/** dW and dx of L = Σ y·dy by the definition, in float64. */
function bruteForce(c: Case, x: Float32Array, f: Float32Array, dy: Float32Array): { dW: Float64Array; dx: Float64Array } {
  const { out: ho, before: top } = axis(c.h, c, 0);
  const { out: wo, before: left } = axis(c.w, c, 1);
  const out = new Float64Array(c.k * c.k * c.ci * c.co);
  const dx = new Float64Array(x.length);
  for (let p = 0; p < c.k; p++)
    for (let q = 0; q < c.k; q++)
      for (let n = 0; n < c.n; n++)
        for (let i = 0; i < ho; i++)
          for (let j = 0; j < wo; j++) {
            const hh = i * c.stride - top + p * c.dilation;
            const ww = j * c.stride - left + q * c.dilation;
            if (hh < 0 || hh >= c.h || ww < 0 || ww >= c.w) continue;
            const xBase = ((n * c.h + hh) * c.w + ww) * c.ci;
            const dyBase = ((n * ho + i) * wo + j) * c.co;
            for (let a = 0; a < c.ci; a++) {
              const xv = x[xBase + a] as number;
              const o = ((p * c.k + q) * c.ci + a) * c.co;
              let s = 0;
              for (let b = 0; b < c.co; b++) {
                out[o + b] = (out[o + b] as number) + xv * (dy[dyBase + b] as number);
                s += (dy[dyBase + b] as number) * (f[o + b] as number);
              }
              dx[xBase + a] = (dx[xBase + a] as number) + s;
            }
          }
  return { dW: out, dx };
}

function tfPad(c: Case): 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
  return typeof c.pad === 'string' ? c.pad : [[0, 0], c.pad[0], c.pad[1], [0, 0]];
}

interface Result {
  got: Float32Array;
  want: Float64Array;
  gotDx: Float32Array;
  wantDx: Float64Array;
}

/** The filter and input gradients of L = Σ y·dy on wasm (through autodiff, as training runs it), and the reference. */
function compare(c: Case, seed: number): Result {
  const rng = new TestRandom(seed);
  const ho = axis(c.h, c, 0).out;
  const wo = axis(c.w, c, 1).out;
  const xv = rng.normals(c.n * c.h * c.w * c.ci);
  const dyv = rng.normals(c.n * ho * wo * c.co);
  const x = tf.tensor4d(xv, [c.n, c.h, c.w, c.ci]);
  const fv = rng.normals(c.k * c.k * c.ci * c.co);
  const f = tf.tensor4d(fv, [c.k, c.k, c.ci, c.co]);
  const dy = tf.tensor4d(dyv, [c.n, ho, wo, c.co]);
  const before = tf.memory().numTensors;
  const [dx, df] = tf.grads((input: tf.Tensor, filter: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(input as tf.Tensor4D, filter as tf.Tensor4D, c.stride as 1 | 2, tfPad(c), 'NHWC', c.dilation), dy)),
  )([x, f]) as [tf.Tensor, tf.Tensor];
  const got = df.dataSync() as Float32Array;
  const gotDx = dx.dataSync() as Float32Array;
  tf.dispose([dx, df]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, f, dy]);
  const want = bruteForce(c, xv, fv, dyv);
  return { got, want: want.dW, gotDx, wantDx: want.dx };
}

/** Runs a case, checks which path each gradient took (SIMD iff its vector lanes fit) and both results. */
function expectMatchesBruteForce(c: Case, seed: number): Result {
  const filterBefore = { ...kernelPathCounts.convFilterGrad };
  const inputBefore = { ...kernelPathCounts.convInputGrad };
  const r = compare(c, seed);
  const filterSimd = c.co % 4 === 0;
  const inputSimd = c.ci % 4 === 0;
  expect(kernelPathCounts.convFilterGrad.simd).toBe(filterBefore.simd + (filterSimd ? 1 : 0));
  expect(kernelPathCounts.convFilterGrad.xnnpack).toBe(filterBefore.xnnpack + (filterSimd ? 0 : 1));
  expect(kernelPathCounts.convInputGrad.simd).toBe(inputBefore.simd + (inputSimd ? 1 : 0));
  expect(kernelPathCounts.convInputGrad.xnnpack).toBe(inputBefore.xnnpack + (inputSimd ? 0 : 1));
  expectClose(r.got, r.want, 'dW');
  expectClose(r.gotDx, r.wantDx, 'dx');
  return r;
}

function expectClose(got: Float32Array, want: Float64Array, what: string): void {
  expect(got.length).toBe(want.length);
  let scale = 1;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  // float32 accumulation of ≤ ~1600 O(1) terms: relative error ≲ 1e-6 of the largest entry.
  for (let i = 0; i < got.length; i++) {
    if (Math.abs((got[i] as number) - (want[i] as number)) > 1e-5 * scale) {
      throw new Error(`${what}[${i}] = ${got[i]}, expected ${want[i]}`);
    }
  }
}

const label = (c: Case) =>
  `[${c.n},${c.h},${c.w},${c.ci}]→${c.co} k${c.k} s${c.stride} d${c.dilation} ${typeof c.pad === 'string' ? c.pad : JSON.stringify(c.pad)}`;

describe('wasm regular filter gradient', () => {
  useWasmWithLeakCheck();

  it('the hand-assembled SIMD module (both functions) validates', () => {
    const wasmApi = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
    expect(wasmApi.validate(simdModuleBytes())).toBe(true);
  });

  describe('SIMD filter gradient (and input gradient where Ci is a multiple of 4) match brute force', () => {
    SIMD_CASES.forEach((c, i) => {
      it(label(c), () => {
        const g = convGeometry([c.n, c.h, c.w, c.ci], [c.k, c.k, c.ci, c.co], c.stride, c.dilation, tfPad(c) as ConvPad, undefined, false);
        expect(convFilterGradPrefersSimd(g)).toBe(true);
        expect(convInputGradPrefersSimd(g)).toBe(c.ci % 4 === 0);
        expectMatchesBruteForce(c, 1500 + i);
      });
    });
  });

  describe('XNNPACK fallbacks (Co resp. Ci not a multiple of 4) match brute force', () => {
    FALLBACK_CASES.forEach((c, i) => {
      it(label(c), () => {
        expectMatchesBruteForce(c, 1700 + i);
      });
    });
  });

  it('forcing the XNNPACK paths gives the same gradients', () => {
    const c = SIMD_CASES[9] as Case;
    const simd = expectMatchesBruteForce(c, 1800);
    kernelTuning.convFilterGradSimd = 'never';
    kernelTuning.convInputGradSimd = 'never';
    try {
      const before = { f: kernelPathCounts.convFilterGrad.xnnpack, i: kernelPathCounts.convInputGrad.xnnpack };
      const xnn = compare(c, 1800);
      expect(kernelPathCounts.convFilterGrad.xnnpack).toBe(before.f + 1);
      expect(kernelPathCounts.convInputGrad.xnnpack).toBe(before.i + 1);
      expectClose(xnn.got, simd.want, 'dW');
      expectClose(xnn.gotDx, simd.wantDx, 'dx');
    } finally {
      kernelTuning.convFilterGradSimd = 'auto';
      kernelTuning.convInputGradSimd = 'auto';
    }
  });

  it('stays correct after the wasm heap grows between calls', () => {
    const c = SIMD_CASES[3] as Case;
    const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const first = expectMatchesBruteForce(c, 1900);
    const sizeBefore = heapBytes();
    // More than the heap holds now: forces the Emscripten heap to grow (its buffer is replaced).
    const big = tf.zeros([sizeBefore / 4 + 1024]);
    const second = expectMatchesBruteForce(c, 1900);
    big.dispose();
    expect(heapBytes()).toBeGreaterThan(sizeBefore);
    expect(Array.from(second.got)).toEqual(Array.from(first.got));
    expect(Array.from(second.gotDx)).toEqual(Array.from(first.gotDx));
  });
});
