import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useBackend } from './testing/backend.js';
import { missingKernelsRegistered, registerMissingKernels } from './index.js';

describe('registerMissingKernels', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('installs the wasm kernels and the gradients, idempotently and without console output', async () => {
    const warn = vi.spyOn(console, 'warn');
    const log = vi.spyOn(console, 'log');
    await useBackend('wasm');
    expect(missingKernelsRegistered()).toEqual({ wasm: true, gradients: true });
    const before = ['Conv2DBackpropInput', 'Conv2DBackpropFilter'].map((k) => tf.getKernel(k, 'wasm'));
    registerMissingKernels();
    registerMissingKernels();
    await useBackend('cpu');
    await useBackend('wasm');
    expect(['Conv2DBackpropInput', 'Conv2DBackpropFilter'].map((k) => tf.getKernel(k, 'wasm'))).toEqual(before);
    expect(missingKernelsRegistered()).toEqual({ wasm: true, gradients: true });
    expect(warn).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
  });

  it('re-installs over registrations made by someone else, still without warnings (even in DEBUG mode)', async () => {
    await useBackend('wasm');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const debugBefore = tf.env().getBool('DEBUG');
    tf.env().set('DEBUG', true); // announces itself on console.warn: not what is under test
    warn.mockClear();
    try {
      // Someone (e.g. a late import of a backend) put other configs in place.
      tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
      tf.registerKernel({
        kernelName: 'Conv2DBackpropInput',
        backendName: 'wasm',
        kernelFunc: () => {
          throw new Error('foreign');
        },
      });
      tf.unregisterGradient('Conv2D');
      tf.registerGradient({
        kernelName: 'Conv2D',
        gradFunc: () => {
          throw new Error('foreign');
        },
      });
      expect(missingKernelsRegistered()).toEqual({ wasm: false, gradients: false });
      registerMissingKernels();
      expect(missingKernelsRegistered()).toEqual({ wasm: true, gradients: true });
      expect(warn).not.toHaveBeenCalled();
    } finally {
      tf.env().set('DEBUG', debugBefore);
    }
  });

  it('makes a dilated conv2d differentiable on the current backend (tfjs alone throws)', async () => {
    await useBackend('wasm');
    const x = tf.ones([1, 5, 5, 1]) as tf.Tensor4D;
    const f = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
    // With all-ones, dL/df[p,q] counts the output pixels whose tap (p,q) lands inside the 5×5 input:
    // rate 2, 'same' (pad 2): centre tap 25, edge-row/column taps 5·3 = 15, corner taps 3·3 = 9.
    const df = tf.grad((ff: tf.Tensor) => tf.sum(tf.conv2d(x, ff as tf.Tensor4D, 1, 'same', 'NHWC', 2)))(f);
    expect(Array.from(df.dataSync())).toEqual([9, 15, 9, 15, 25, 15, 9, 15, 9]);
    tf.dispose([x, f, df]);
  });
});
