import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { offsetOf, simdOnHeap } from '../wasm-heap.js';
import { arrayAccess } from './array-access.js';
import { FUSED_KERNEL_NAMES, hasFusedKernels } from './names.js';

/**
 * AdlReluGrad: dy where x > 0, else 0, in one pass (tfjs runs Step, Cast and Multiply); on wasm the
 * SIMD `reluMask` over whole quads. `Relu`'s gradient is re-registered to use it, with a gradient of
 * its own for second derivatives.
 */

export const reluGradKernel: KernelFunc = ({ inputs, backend }) => {
  const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
  const access = arrayAccess(backend as KernelBackend);
  const dxInfo = access.output([...x.shape]);
  const [dys, xs, dx] = [access.view(dy), access.view(x), access.view(dxInfo)];
  // SIMD over whole quads where it can, the rest in the loop.
  const simd = simdOnHeap(backend);
  const quads = simd ? xs.length - (xs.length % 4) : 0;
  if (simd && quads > 0) simd.k.reluMask(offsetOf(simd.b, x), offsetOf(simd.b, dy), offsetOf(simd.b, dxInfo), 4 * quads);
  for (let i = quads; i < xs.length; i++) dx[i] = xs[i]! > 0 ? dys[i]! : 0;
  return dxInfo;
};

/** dy where x > 0, else 0 (the gradient of ReLU), fused where the backend has the kernel. */
export function reluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (hasFusedKernels() && dy.dtype === 'float32' && x.dtype === 'float32') {
    return tf.engine().runKernel(FUSED_KERNEL_NAMES.reluGrad, { dy, x }, {}) as tf.Tensor;
  }
  return tf.mul(dy, tf.cast(tf.step(x), 'float32'));
}

/** Relu's gradient through `reluGrad`; AdlReluGrad's own gradient (for second derivatives). */
export const RELU_GRADIENTS: readonly GradConfig[] = [
  {
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => reluGrad(dy as tf.Tensor, x) };
    },
  },
  {
    kernelName: FUSED_KERNEL_NAMES.reluGrad,
    inputsToSave: ['x'],
    gradFunc: (ddx, saved) => {
      const [x] = saved as [tf.Tensor];
      return { dy: () => reluGrad(ddx as tf.Tensor, x), x: () => tf.zerosLike(x) };
    },
  },
];
