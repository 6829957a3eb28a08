import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs';
import { wasmMaxPoolGradIsExact } from './wasm-max-pool-grad.js';

/**
 * MaxPool's gradient, working around tfjs-backend-wasm 4.22's MaxPoolGrad, which drops the gradient
 * of every window whose values are all negative (its running maximum starts at 0). Where that kernel
 * still runs (our SIMD replacement, wasm-max-pool-grad.ts, does not apply: C not a multiple of 4, no
 * SIMD) the pooled input and output are shifted to be ≥ 1 first: a shift moves no maximum, so the
 * routing of the gradient is unchanged (up to float32 rounding, which can only merge values closer
 * than about 1e-7 of their range — ties, whose routing is arbitrary anyway).
 */
export const MAX_POOL_GRADIENT: GradConfig = {
  kernelName: 'MaxPool',
  inputsToSave: ['x'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs: NamedAttrMap) => {
    const [x, y] = saved as [tf.Tensor4D, tf.Tensor4D];
    const gradient = dy as tf.Tensor;
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
      filterSize: number | [number, number];
      strides: number | [number, number];
      pad: 'same' | 'valid' | number;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    const kernelAttrs = { filterSize, strides, pad, dimRoundingMode } as unknown as NamedAttrMap;
    return {
      x: () =>
        tf.tidy((): tf.Tensor => {
          const shift = tf.getBackend() === 'wasm' && !wasmMaxPoolGradIsExact(tf.backend(), x);
          const [input, output] = shift ? shiftPositive(x, y) : ([x, y] as [tf.Tensor4D, tf.Tensor4D]);
          return tf.engine().runKernel('MaxPoolGrad', { dy: gradient, input, output }, kernelAttrs) as tf.Tensor;
        }),
    };
  },
};

function shiftPositive(x: tf.Tensor4D, y: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
  const offset = tf.sub(1, tf.min(x));
  return [tf.add(x, offset), tf.add(y, offset)];
}
