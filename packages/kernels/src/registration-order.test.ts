import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { registerMissingKernels } from './index.js';

describe('registerMissingKernels before the wasm backend is set', () => {
  it("keeps the replaced kernels' set-up, so their fallbacks work once wasm is set (stride-2 AvgPoolGrad against cpu)", async () => {
    tf.env().set('PROD', true);
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('cpu');
    // The wasm package is imported but its backend not set up: our kernels replace its own now.
    registerMissingKernels();
    const gradient = () => {
      const x = tf.tensor4d(
        Array.from({ length: 2 * 6 * 6 * 4 }, (_, i) => Math.sin(i)),
        [2, 6, 6, 4],
      );
      const [dx] = tf.grads((input: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(input as tf.Tensor4D, 3, 2, 'same'), tf.range(1, 37).reshape([1, 3, 3, 4]))))([x]);
      const values = Array.from(dx!.dataSync());
      tf.dispose([x, dx!]);
      return values;
    };
    const expected = gradient();
    expect(await tf.setBackend('wasm')).toBe(true);
    registerMissingKernels();
    const found = gradient();
    expect(found.length).toBe(expected.length);
    found.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });
});
