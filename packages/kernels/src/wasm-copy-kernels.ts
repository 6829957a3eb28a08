import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { KernelReplacements } from './replaced-kernels.js';
import { isWasmHeapBackend, simdOnHeap, type WasmHeapBackend } from './wasm-heap.js';

/**
 * Copy kernels for tfjs-backend-wasm 4.22 that do not copy more than they must:
 * - `Identity` (what `tf.clone` and every tensor a kernel saves for its gradient run) copies the
 *   whole buffer there; ours shares it, as the cpu backend and wasm's own Reshape do (buffers are
 *   never written after the kernel that made them returns). A supernet step saves ~36,000 tensors.
 * - `Slice` (and `SplitV`, which slices once per piece) first copies its WHOLE input out of the heap
 *   into a JavaScript buffer, then the piece from it: E pieces of one tensor cost E whole copies.
 *   Ours copies the piece straight from the heap, one contiguous run at a time.
 * - `Concat` copies each row of each input with a new typed-array view (`subarray` + `set`): on a
 *   channel concatenation of [N, H, W, C] tensors that is N·H·W views per input, garbage for the
 *   collector. Ours moves the rows within the heap, allocating nothing.
 * Rows move in equally spaced batches (`RunCopier`): with WebAssembly SIMD available, one call of the
 * hand-assembled `copyRuns` per batch (a bulk `memory.copy` per row, no JavaScript per row: a channel
 * slice of [1, 81, 81, 40] is 81 calls, not 6,561 row moves); otherwise row by row (`mover`).
 */
const BACKEND = 'wasm';

type Args = Parameters<KernelFunc>[0];

/** Serves what ours do not handle (string tensors) with the backend's own kernels. */
const fallback = (name: string, args: Args): TensorInfo | TensorInfo[] => COPY_KERNELS.fallback(name, args);

const identityKernel: KernelFunc = (args) => {
  const x = (args.inputs as { x: TensorInfo }).x;
  if (x.dtype === 'string' || !isWasmHeapBackend(args.backend)) return fallback('Identity', args);
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

type HeapArray = Float32Array | Int32Array | Uint8Array;

/**
 * `copy(from, to, count, n, fromStride, toStride)`: `count` runs of `n` elements, run r from
 * source[from + r·fromStride] to target[to + r·toStride] (element indices into the two views).
 */
export type RunCopier = (from: number, to: number, count: number, n: number, fromStride: number, toStride: number) => void;

/** Row by row in JavaScript (`mover`). */
function jsRunCopier(source: HeapArray, target: HeapArray): RunCopier {
  const move = mover(source, target);
  return (from, to, count, n, fromStride, toStride) => {
    for (let r = 0; r < count; r++, from += fromStride, to += toStride) move(from, to, n);
  };
}

/** `simd`: 'never' moves every row in JavaScript (benchmarks, A/B tests). */
export const copyRunsOptions: { simd: 'auto' | 'never' } = { simd: 'auto' };

/**
 * The copier for two views of the backend's heap: `copyRuns` on the heap where the SIMD module runs,
 * else row by row. Take the views after the kernel's allocations (they may move the heap).
 */
function heapRunCopier(backend: WasmHeapBackend, source: HeapArray, target: HeapArray): RunCopier {
  const simd = copyRunsOptions.simd === 'never' ? null : simdOnHeap(backend);
  if (simd == null || source.buffer !== target.buffer) return jsRunCopier(source, target);
  const bytes = source.BYTES_PER_ELEMENT;
  const copyRuns = simd.k.copyRuns;
  return (from, to, count, n, fromStride, toStride) => {
    if (count === 0 || n === 0) return;
    copyRuns(source.byteOffset + from * bytes, target.byteOffset + to * bytes, count, n * bytes, fromStride * bytes, toStride * bytes);
  };
}

/**
 * Copies the box `begin`/`size` of `x` into `out` (both dense, row-major). Trailing axes taken whole
 * merge into one contiguous run; the runs along the axes before it, as far back as they stay equally
 * spaced (whole axes, then one partial one), go as one batch; the axes before those are walked like
 * an odometer. `copier` moves the batches (default: row by row in JavaScript).
 */
export function copyBox(source: HeapArray, shape: readonly number[], begin: readonly number[], size: readonly number[], target: HeapArray, copier?: RunCopier): void {
  const copy = copier ?? jsRunCopier(source, target);
  const rank = shape.length;
  const strides = new Array<number>(rank);
  let stride = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= shape[d]!;
  }
  // The run: the innermost axis not taken whole, and every axis after it.
  let inner = rank - 1;
  while (inner > 0 && size[inner] === shape[inner]) inner--;
  const run = size[inner]! * strides[inner]!;
  // The batch: axes [batchAxis, inner) — whole ones after batchAxis — whose runs are `rowStride` apart.
  let batchAxis = inner;
  if (inner > 0) {
    batchAxis = inner - 1;
    while (batchAxis > 0 && size[batchAxis] === shape[batchAxis]) batchAxis--;
  }
  const rowStride = inner > 0 ? strides[inner - 1]! : run;
  const batch = size.slice(batchAxis, inner).reduce((a, b) => a * b, 1);
  const outer = size.slice(0, batchAxis).reduce((a, b) => a * b, 1);
  const index = new Array<number>(batchAxis).fill(0);
  let from = 0;
  for (let d = 0; d <= inner; d++) from += begin[d]! * strides[d]!;
  let to = 0;
  for (let r = 0; r < outer; r++) {
    copy(from, to, batch, run, rowStride, run);
    to += batch * run;
    // Next batch: advance the odometer over the leading axes.
    for (let d = batchAxis - 1; d >= 0; d--) {
      from += strides[d]!;
      if (++index[d]! < size[d]!) break;
      from -= size[d]! * strides[d]!;
      index[d] = 0;
    }
  }
}

/**
 * `move(from, to, n)`: source[from .. from + n) → target[to ..]. Views of one buffer (the heap) move
 * with `copyWithin`, which allocates nothing (a `subarray` per run would); short runs element by
 * element; long ones with `set` (measured ~2.5× faster than `copyWithin` on 100 k values, and one
 * view per long run is nothing).
 */
const LONG_RUN = 4096;

function mover(source: HeapArray, target: HeapArray): (from: number, to: number, n: number) => void {
  const bytes = source.BYTES_PER_ELEMENT;
  if (source.buffer === target.buffer && target.BYTES_PER_ELEMENT === bytes) {
    // The whole buffer as elements of this size (the views' offsets are multiples of it).
    const heap = bytes === 4 ? new Int32Array(source.buffer) : new Uint8Array(source.buffer);
    const [s, t] = [source.byteOffset / bytes, target.byteOffset / bytes];
    return (from, to, n) => {
      if (n < 8) for (let i = 0; i < n; i++) target[to + i] = source[from + i]!;
      else if (n < LONG_RUN) heap.copyWithin(t + to, s + from, s + from + n);
      else target.set(source.subarray(from, from + n), to);
    };
  }
  return (from, to, n) => {
    if (n < 16) for (let i = 0; i < n; i++) target[to + i] = source[from + i]!;
    else target.set(source.subarray(from, from + n), to);
  };
}

function sliceInfo(backend: WasmHeapBackend, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (size.some((s) => s === 0)) return out;
  // Views are taken after makeOutput, which may grow (and so move) the heap.
  const [source, target] = [backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out)];
  copyBox(source, x.shape, begin, size, target, heapRunCopier(backend, source, target));
  return out;
}

const sliceKernel: KernelFunc = (args) => {
  const x = (args.inputs as { x: TensorInfo }).x;
  if (x.dtype === 'string' || !isWasmHeapBackend(args.backend)) return fallback('Slice', args);
  const attrs = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
  return sliceInfo(args.backend, x, begin!, size!);
};

const splitVKernel: KernelFunc = (args) => {
  const x = (args.inputs as { x: TensorInfo }).x;
  if (x.dtype === 'string' || !isWasmHeapBackend(args.backend)) return fallback('SplitV', args);
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

/** Concatenation along `axis`: per outer row, each input's row in turn (rows of inner extents). */
const concatKernel: KernelFunc = (args) => {
  const inputs = args.inputs as unknown as TensorInfo[];
  const backend = args.backend;
  if (inputs[0]!.dtype === 'string' || !isWasmHeapBackend(backend)) return fallback('Concat', args);
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

const COPY_KERNELS = new KernelReplacements(BACKEND, [
  ['Identity', identityKernel],
  ['Slice', sliceKernel],
  ['SplitV', splitVKernel],
  ['Concat', concatKernel],
]);

/** Our configs; `rememberOriginalCopyKernels` first keeps the backend's own kernels for the fallbacks. */
export const WASM_COPY_KERNELS = COPY_KERNELS.configs;

/** Keeps tfjs-backend-wasm's kernels that ours replace (call before replacing them). */
export function rememberOriginalCopyKernels(): void {
  COPY_KERNELS.remember();
}
