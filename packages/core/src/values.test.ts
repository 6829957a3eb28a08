import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { readValues, tensorFromCopy } from './values.js';

describe.each(['wasm', 'cpu'] as const)('tensor values on %s', (backend) => {
  afterAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('readValues gives the values dataSync gives (a view of the heap on wasm, no copy)', async () => {
    await initBackend({ backend });
    const t = tf.tensor([1.5, -2, 3, 4.25, 5, 6], [2, 3]);
    const values = readValues(t);
    expect(Array.from(values)).toEqual([1.5, -2, 3, 4.25, 5, 6]);
    if (backend === 'wasm') {
      const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer;
      expect(values.buffer).toBe(heap);
    }
    t.dispose();
  });

  it('tensorFromCopy keeps its values when the source (a view into a shared buffer) is overwritten', async () => {
    await initBackend({ backend });
    const shared = new Float32Array(new SharedArrayBuffer(8 * 4));
    shared.set([9, 9, 1, 2, 3, 4, 9, 9]);
    const t = tensorFromCopy(shared.subarray(2, 6), [2, 2]);
    shared.fill(-1);
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4]);
    expect(t.shape).toEqual([2, 2]);
    t.dispose();
  });

  it('int32 tensors are read through dataSync', async () => {
    await initBackend({ backend });
    const t = tf.tensor([1, 2, 3], [3], 'int32');
    expect(Array.from(readValues(t))).toEqual([1, 2, 3]);
    t.dispose();
  });
});
