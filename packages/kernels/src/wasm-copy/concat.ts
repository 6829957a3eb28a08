import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { runOriginalKernel } from '../replaced-kernels.js';
import { isWasmHeapBackend } from '../wasm-heap.js';
import { heapRunCopier } from './run-copier.js';

/**
 * Concat on wasm. The backend's own copies each row of each input with a new typed-array view
 * (`subarray` + `set`): on a channel concatenation of [N, H, W, C] tensors that is N·H·W views per
 * input, garbage for the collector. Ours moves the rows within the heap, allocating nothing.
 * String tensors keep the backend's kernel.
 */
/** Concatenation along `axis`: per outer row, each input's row in turn (rows of inner extents). */
const concat: KernelFunc = (args) => {
  const inputs = args.inputs as unknown as TensorInfo[];
  const backend = args.backend;
  if (inputs[0]!.dtype === 'string' || !isWasmHeapBackend(backend)) return runOriginalKernel('wasm', 'Concat', args);
  const axis = tf.util.parseAxisParam((args.attrs as unknown as { axis: number | number[] }).axis, inputs[0]!.shape)[0]!;
  const shapes = inputs.map((t) => t.shape);
  tf.backend_util.assertParamsConsistent(shapes, axis);
  const outShape = tf.backend_util.computeOutShape(shapes, axis);
  const parts = inputs.filter((t) => t.shape.every((d) => d > 0));
  const out = backend.makeOutput(outShape, inputs[0]!.dtype);
  if (parts.length === 0) return out;
  const rows = tf.util.sizeFromShape(outShape.slice(0, axis));
  const width = tf.util.sizeFromShape(outShape.slice(axis));
  // Views are taken after makeOutput, which may grow (and so move) the heap.
  const target = backend.typedArrayFromHeap(out);
  let column = 0;
  for (const t of parts) {
    const n = tf.util.sizeFromShape(t.shape.slice(axis));
    heapRunCopier(backend, backend.typedArrayFromHeap(t), target)(0, column, rows, n, n, width);
    column += n;
  }
  return out;
};

export const concatConfig: KernelConfig = { kernelName: 'Concat', backendName: 'wasm', kernelFunc: concat };
