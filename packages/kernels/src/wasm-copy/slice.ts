import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { runOriginalKernel } from '../replaced-kernels.js';
import { isWasmHeapBackend, type WasmHeapBackend } from '../wasm-heap.js';
import { copyBox } from './copy-box.js';
import { heapRunCopier } from './run-copier.js';

/**
 * Slice and SplitV on wasm. The backend's own Slice (and SplitV, which slices once per piece) first
 * copies its WHOLE input out of the heap into a JavaScript buffer, then the piece from it: E pieces
 * of one tensor cost E whole copies. Ours copy the piece straight from the heap, one batch of
 * equally spaced runs at a time. String tensors keep the backend's kernels.
 */

/** The box `begin`/`size` of `x` as a new heap tensor. */
export function sliceInfo(backend: WasmHeapBackend, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (size.some((s) => s === 0)) return out;
  // Views are taken after makeOutput, which may grow (and so move) the heap.
  const [source, target] = [backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out)];
  copyBox(source, x.shape, begin, size, target, heapRunCopier(backend, source, target));
  return out;
}

const slice: KernelFunc = (args) => {
  const x = (args.inputs as { x: TensorInfo }).x;
  if (x.dtype === 'string' || !isWasmHeapBackend(args.backend)) return runOriginalKernel('wasm', 'Slice', args);
  const attrs = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
  return sliceInfo(args.backend, x, begin!, size!);
};

const splitV: KernelFunc = (args) => {
  const x = (args.inputs as { x: TensorInfo }).x;
  if (x.dtype === 'string' || !isWasmHeapBackend(args.backend)) return runOriginalKernel('wasm', 'SplitV', args);
  const backend = args.backend;
  const attrs = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
  const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis);
  const begin = x.shape.map(() => 0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[axis] = s;
    const piece = sliceInfo(backend, x, begin, size);
    begin[axis]! += s;
    return piece;
  });
};

export const sliceConfig: KernelConfig = { kernelName: 'Slice', backendName: 'wasm', kernelFunc: slice };
export const splitVConfig: KernelConfig = { kernelName: 'SplitV', backendName: 'wasm', kernelFunc: splitV };
