import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { measureTape } from './tape-memory.js';

describe('measureTape', () => {
  it("on cpu counts tfjs' byte count: each saved tensor is a clone counted at full size", async () => {
    await initBackend({ backend: 'cpu' });
    const x = tf.ones([1, 8, 8, 4]);
    const filter = tf.ones([1, 1, 4, 6]);
    const bytes = (n: number) => 4 * n;
    // neg saves nothing: only the result (kept by the sum that follows) is held.
    expect(measureTape((t) => tf.neg(t), [x])).toMatchObject({ keptBytes: bytes(256), source: 'tensor-bytes' });
    // relu saves a clone of its input, then the result.
    expect(measureTape((t) => tf.relu(t), [x]).keptBytes).toBe(bytes(256 + 256));
    // relu saves x; the conv saves relu(x) and the filter; then the result (8·8·6).
    expect(measureTape((t) => tf.conv2d(tf.relu(t) as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), [x]).keptBytes).toBe(bytes(256 + 256 + 24 + 384));
    tf.dispose([x, filter]);
  });

  it('on wasm counts heap buffers: a saved tensor shares its buffer, so only new buffers count', async () => {
    await initBackend({ backend: 'wasm' });
    const x = tf.ones([1, 8, 8, 4]);
    const filter = tf.ones([1, 1, 4, 6]);
    const bytes = (n: number) => 4 * n;
    // relu saves its input (which existed before): only the result is new.
    expect(measureTape((t) => tf.relu(t), [x])).toEqual({ keptBytes: bytes(256), forwardBytes: bytes(256), source: 'wasm-heap' });
    // The conv saves relu(x) (new) and the filter (existed before), then the result (8·8·6); the
    // forward allocated relu(x) and the result.
    expect(measureTape((t) => tf.conv2d(tf.relu(t) as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), [x])).toEqual({
      keptBytes: bytes(256 + 384),
      forwardBytes: bytes(256 + 384),
      source: 'wasm-heap',
    });
    tf.dispose([x, filter]);
  });
});
