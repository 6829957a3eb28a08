import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backend.js';
import { TestRandom } from '../testing/random.js';
import { copyBox } from './copy-box.js';

/** The box begin/size of a dense row-major array, by brute force over every index. */
function bruteForceBox(values: Float32Array, shape: number[], begin: number[], size: number[]): number[] {
  const out: number[] = [];
  const total = size.reduce((a, b) => a * b, 1);
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    let source = 0;
    let stride = 1;
    const index = new Array<number>(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d] = rest % size[d]!;
      rest = Math.floor(rest / size[d]!);
    }
    for (let d = shape.length - 1; d >= 0; d--) {
      source += (begin[d]! + index[d]!) * stride;
      stride *= shape[d]!;
    }
    out.push(values[source]!);
  }
  return out;
}

function randomBox(rng: TestRandom): { shape: number[]; begin: number[]; size: number[] } {
  const rank = 1 + rng.int(5);
  const shape = Array.from({ length: rank }, () => 1 + rng.int(6));
  const begin = shape.map((s) => rng.int(s));
  const size = shape.map((s, d) => (rng.uniform() < 0.4 ? s - begin[d]! : 1 + rng.int(s - begin[d]!)));
  return { shape, begin, size };
}

describe('copyBox', () => {
  it('copies the box that brute-force indexing selects, for 500 random shapes and boxes', () => {
    const rng = new TestRandom(7);
    for (let trial = 0; trial < 500; trial++) {
      const { shape, begin, size } = randomBox(rng);
      // Runs of 16 and more take the typed-array copy; make some shapes wide enough.
      if (trial % 3 === 0) shape[shape.length - 1] = 20 + rng.int(20);
      begin[shape.length - 1] = Math.min(begin[shape.length - 1]!, shape[shape.length - 1]! - 1);
      size[shape.length - 1] = Math.min(size[shape.length - 1]!, shape[shape.length - 1]! - begin[shape.length - 1]!);
      const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 0.5);
      const target = new Float32Array(size.reduce((a, b) => a * b, 1));
      copyBox(values, shape, begin, size, target);
      expect(Array.from(target), `shape [${shape}] begin [${begin}] size [${size}]`).toEqual(bruteForceBox(values, shape, begin, size));
    }
  });
});

describe('wasm copy kernels', () => {
  it("slice and split give the cpu backend's results, on float32, int32 and bool tensors", async () => {
    const rng = new TestRandom(3);
    const cases = Array.from({ length: 40 }, () => randomBox(rng));
    const run = async (backend: 'cpu' | 'wasm') => {
      await useBackend(backend);
      return cases.map(({ shape, begin, size }, i) =>
        tf.tidy(() => {
          const n = shape.reduce((a, b) => a * b, 1);
          const x = tf.tensor(
            Float32Array.from({ length: n }, (_, k) => k * 0.25 - i),
            shape,
          );
          const axis = i % shape.length;
          const pieces = shape[axis]! > 1 ? [1, shape[axis]! - 1] : [1];
          return {
            float: Array.from(tf.slice(x, begin, size).dataSync()),
            int: Array.from(tf.slice(tf.cast(x, 'int32'), begin, size).dataSync()),
            bool: Array.from(tf.slice(tf.greater(x, 0), begin, size).dataSync()),
            split: tf.split(x, pieces, axis).map((p) => Array.from(p.dataSync())),
          };
        }),
      );
    };
    const reference = await run('cpu');
    const wasm = await run('wasm');
    expect(wasm).toEqual(reference);
  });

  it("concat gives the cpu backend's results on every axis, for float32, int32 and bool, rows short and long, empty inputs", async () => {
    const rng = new TestRandom(11);
    const cases = Array.from({ length: 40 }, (_, i) => {
      const rank = 1 + rng.int(4);
      const shape = Array.from({ length: rank }, () => 1 + rng.int(5));
      // Rows of 8+ values move within the heap, of 4096+ with one copy each: some cases wide.
      if (i % 4 === 0) shape[rank - 1] = 8 + rng.int(30);
      if (i % 10 === 1) shape[rank - 1] = 4096 + rng.int(100);
      const axis = rng.int(rank);
      const shapes = Array.from({ length: 1 + rng.int(4) }, () => {
        const s = [...shape];
        s[axis] = i % 7 === 3 && rng.uniform() < 0.5 ? 0 : 1 + rng.int(4);
        return s;
      });
      return { shapes, axis };
    });
    const run = async (backend: 'cpu' | 'wasm') => {
      await useBackend(backend);
      return cases.map(({ shapes, axis }, i) =>
        tf.tidy(() => {
          const xs = shapes.map((s, k) =>
            tf.tensor(
              Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, (_, j) => j * 0.5 - k - i),
              s,
            ),
          );
          const y = (t: tf.Tensor[]) => tf.concat(t, axis);
          return {
            shape: y(xs).shape,
            float: Array.from(y(xs).dataSync()),
            int: Array.from(y(xs.map((x) => tf.cast(x, 'int32'))).dataSync()),
            bool: Array.from(y(xs.map((x) => tf.greater(x, 0))).dataSync()),
          };
        }),
      );
    };
    const reference = await run('cpu');
    const wasm = await run('wasm');
    expect(wasm).toEqual(reference);
  });

  it('clone shares the buffer: no copy, no extra buffer, and each tensor outlives the other', async () => {
    await useBackend('wasm');
    const x = tf.tensor1d([1, 2, 3]);
    const buffersBefore = tf.memory().numDataBuffers;
    const y = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(buffersBefore);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    const z = tf.clone(y);
    y.dispose();
    expect(Array.from(z.dataSync())).toEqual([1, 2, 3]);
    z.dispose();
    expect(tf.memory().numDataBuffers).toBe(buffersBefore - 1);
  });

  it('saved tensors stay correct when the forward tensors are freed (the tape keeps shared buffers)', async () => {
    const gradients = async (backend: 'cpu' | 'wasm') => {
      await useBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor2d([
          [1, -2, 3],
          [-4, 5, -6],
        ]);
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(tf.slice(t, [0, 1], [2, 2])), tf.square(t.slice([0, 0], [2, 2])))))(x);
        return Array.from(g.dataSync());
      });
    };
    expect(await gradients('wasm')).toEqual(await gradients('cpu'));
  });
});
