import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useWasmWithLeakCheck } from '../testing/leak-check.js';
import { TestRandom } from '../testing/random.js';
import { kernelPathCounts } from '../path-counts.js';
import { simdModuleBytes } from '../wasm-simd/module.js';

/**
 * The wasm depthwise filter gradient: the SIMD reduction over the heap (multiplier 1, channels a
 * multiple of 4: its 8-channel body and 4-channel tail) and the XNNPACK fallback (other cases),
 * against a brute-force float64 evaluation of the definition with per-pixel bounds tests
 * (independent of the kernel's per-tap valid ranges). Sizes are odd/even, strides 1/2, dilations
 * 1/2/5, 'same'/'valid', 1–3 images. tfjs's per-kernel leak check (IS_TEST) is on.
 */

interface Case {
  n: number;
  h: number;
  w: number;
  c: number;
  mult: number;
  k: number;
  stride: number;
  dilation: number;
  pad: 'same' | 'valid';
}

const SIMD_CASES: Case[] = [
  { n: 2, h: 9, w: 7, c: 4, mult: 1, k: 3, stride: 1, dilation: 1, pad: 'same' },
  { n: 1, h: 8, w: 9, c: 8, mult: 1, k: 5, stride: 2, dilation: 1, pad: 'same' },
  { n: 3, h: 11, w: 10, c: 12, mult: 1, k: 3, stride: 2, dilation: 1, pad: 'valid' },
  { n: 2, h: 10, w: 11, c: 20, mult: 1, k: 3, stride: 1, dilation: 2, pad: 'same' },
  { n: 2, h: 13, w: 12, c: 16, mult: 1, k: 5, stride: 1, dilation: 2, pad: 'valid' },
  { n: 1, h: 7, w: 13, c: 8, mult: 1, k: 3, stride: 1, dilation: 5, pad: 'same' },
  { n: 2, h: 6, w: 5, c: 4, mult: 1, k: 1, stride: 2, dilation: 1, pad: 'same' },
  { n: 2, h: 5, w: 5, c: 64, mult: 1, k: 5, stride: 1, dilation: 1, pad: 'same' },
  { n: 2, h: 33, w: 31, c: 24, mult: 1, k: 3, stride: 1, dilation: 1, pad: 'same' },
  // Channel multipliers (the stacked supernet's first depthwise conv has one per edge).
  { n: 2, h: 9, w: 8, c: 4, mult: 2, k: 3, stride: 2, dilation: 1, pad: 'same' },
  { n: 2, h: 7, w: 9, c: 8, mult: 5, k: 5, stride: 1, dilation: 1, pad: 'same' },
  { n: 1, h: 10, w: 7, c: 2, mult: 6, k: 3, stride: 1, dilation: 2, pad: 'valid' },
];

const FALLBACK_CASES: Case[] = [
  { n: 2, h: 9, w: 8, c: 3, mult: 3, k: 3, stride: 2, dilation: 1, pad: 'same' },
  { n: 2, h: 7, w: 9, c: 6, mult: 1, k: 3, stride: 1, dilation: 2, pad: 'same' },
];

function outSize(size: number, c: Case): number {
  const span = (c.k - 1) * c.dilation + 1;
  return c.pad === 'same' ? Math.ceil(size / c.stride) : Math.ceil((size - span + 1) / c.stride);
}

/** TensorFlow's 'same' padding before the data: half the total, rounded down. */
function padBefore(size: number, out: number, c: Case): number {
  if (c.pad === 'valid') return 0;
  const span = (c.k - 1) * c.dilation + 1;
  return Math.floor(Math.max(0, (out - 1) * c.stride + span - size) / 2);
}

function bruteForce(c: Case, x: Float32Array, dy: Float32Array, ho: number, wo: number): Float64Array {
  const top = padBefore(c.h, ho, c);
  const left = padBefore(c.w, wo, c);
  const cm = c.c * c.mult;
  const out = new Float64Array(c.k * c.k * cm);
  for (let p = 0; p < c.k; p++)
    for (let q = 0; q < c.k; q++)
      for (let ch = 0; ch < c.c; ch++)
        for (let m = 0; m < c.mult; m++) {
          let s = 0;
          for (let n = 0; n < c.n; n++)
            for (let i = 0; i < ho; i++)
              for (let j = 0; j < wo; j++) {
                const hh = i * c.stride - top + p * c.dilation;
                const ww = j * c.stride - left + q * c.dilation;
                if (hh < 0 || hh >= c.h || ww < 0 || ww >= c.w) continue;
                s += (x[((n * c.h + hh) * c.w + ww) * c.c + ch] as number) * (dy[((n * ho + i) * wo + j) * cm + ch * c.mult + m] as number);
              }
          out[((p * c.k + q) * c.c + ch) * c.mult + m] = s;
        }
  return out;
}

/** The filter gradient of L = Σ y·dy on wasm (through autodiff, as training runs it), and the reference. */
function compare(c: Case, seed: number): { got: Float32Array; want: Float64Array } {
  const rng = new TestRandom(seed);
  const ho = outSize(c.h, c);
  const wo = outSize(c.w, c);
  const xv = rng.normals(c.n * c.h * c.w * c.c);
  const dyv = rng.normals(c.n * ho * wo * c.c * c.mult);
  const x = tf.tensor4d(xv, [c.n, c.h, c.w, c.c]);
  const f = tf.tensor4d(rng.normals(c.k * c.k * c.c * c.mult), [c.k, c.k, c.c, c.mult]);
  const dy = tf.tensor4d(dyv, [c.n, ho, wo, c.c * c.mult]);
  const before = tf.memory().numTensors;
  const df = tf.grad((filter: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(x, filter as tf.Tensor4D, c.stride as 1 | 2, c.pad, 'NHWC', c.dilation), dy)))(f);
  const got = df.dataSync() as Float32Array;
  df.dispose();
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, f, dy]);
  return { got, want: bruteForce(c, xv, dyv, ho, wo) };
}

function expectClose(got: Float32Array, want: Float64Array): void {
  expect(got.length).toBe(want.length);
  let scale = 1;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  // float32 accumulation of ≤ ~2000 O(1) terms: relative error ≲ 1e-6 of the largest entry.
  for (let i = 0; i < got.length; i++) {
    if (Math.abs((got[i] as number) - (want[i] as number)) > 1e-5 * scale) {
      throw new Error(`dF[${i}] = ${got[i]}, expected ${want[i]}`);
    }
  }
}

const label = (c: Case) => `[${c.n},${c.h},${c.w},${c.c}] ×${c.mult} k${c.k} s${c.stride} d${c.dilation} ${c.pad}`;

describe('wasm depthwise filter gradient', () => {
  useWasmWithLeakCheck();

  it('the hand-assembled SIMD module validates', () => {
    const wasmApi = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
    expect(wasmApi.validate(simdModuleBytes())).toBe(true);
  });

  describe('SIMD path matches brute force', () => {
    SIMD_CASES.forEach((c, i) => {
      it(label(c), () => {
        const simdBefore = kernelPathCounts.depthwiseFilterGrad.simd;
        const { got, want } = compare(c, 500 + i);
        expect(kernelPathCounts.depthwiseFilterGrad.simd).toBe(simdBefore + 1);
        expectClose(got, want);
      });
    });
  });

  describe('XNNPACK fallback (multiplier > 1, channels not a multiple of 4) matches brute force', () => {
    FALLBACK_CASES.forEach((c, i) => {
      it(label(c), () => {
        const fallbackBefore = kernelPathCounts.depthwiseFilterGrad.xnnpack;
        const { got, want } = compare(c, 700 + i);
        expect(kernelPathCounts.depthwiseFilterGrad.xnnpack).toBe(fallbackBefore + 1);
        expectClose(got, want);
      });
    });
  });

  it('stays correct after the wasm heap grows between calls', () => {
    const c = SIMD_CASES[3] as Case;
    const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const first = compare(c, 900);
    const sizeBefore = heapBytes();
    // More than the heap holds now: forces the Emscripten heap to grow (its buffer is replaced).
    const big = tf.zeros([sizeBefore / 4 + 1024]);
    const second = compare(c, 900);
    big.dispose();
    expect(heapBytes()).toBeGreaterThan(sizeBefore);
    expectClose(second.got, second.want);
    expect(Array.from(second.got)).toEqual(Array.from(first.got));
  });
});
