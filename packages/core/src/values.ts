import * as tf from '@tensorflow/tfjs';
import { isWasmHeapBackend } from '@autodeeplab/kernels';

/**
 * Moving tensor values in and out without the copies `dataSync()` and `tf.tensor()` make.
 *
 * On the wasm backend, `dataSync()` slices the values out of the heap into a fresh JavaScript
 * buffer, and `tf.tensor(values)` copies them into the heap (keeping no reference). The parallel
 * search moves every parameter each step, and fresh buffers of that size page-fault on first touch
 * (see docs/benchmarks.md). These helpers read the heap in place and hand the backend a view it
 * copies anyway.
 */

/**
 * The float32 values of `t`, for immediate reading: a view of the wasm heap where possible (valid
 * only until the next tensor operation, which may grow and so move the heap), else `dataSync()`.
 */
export function readValues(t: tf.Tensor): Float32Array {
  const backend: unknown = tf.backend();
  if (t.dtype === 'float32' && isWasmHeapBackend(backend)) return backend.typedArrayFromHeap(t) as Float32Array;
  return t.dataSync() as Float32Array;
}

/**
 * A float32 tensor holding a copy of `values` (which the caller may overwrite afterwards): the view
 * itself on the wasm backend, which copies it into its heap at creation; a copy elsewhere (the cpu
 * backend keeps the array it is given).
 */
export function tensorFromCopy(values: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(tf.getBackend() === 'wasm' ? values : values.slice(), shape, 'float32');
}
