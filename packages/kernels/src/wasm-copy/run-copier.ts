import { kernelTuning } from '../tuning.js';
import { simdOnHeap, type WasmHeapBackend } from '../wasm-heap.js';

/**
 * Moving equally spaced rows between two views: with WebAssembly SIMD available, one call of the
 * hand-assembled `copyRuns` per batch (a bulk `memory.copy` per row, no JavaScript per row);
 * otherwise row by row in JavaScript (`mover`).
 */

export type HeapArray = Float32Array | Int32Array | Uint8Array;

/**
 * `copy(from, to, count, n, fromStride, toStride)`: `count` runs of `n` elements, run r from
 * source[from + r·fromStride] to target[to + r·toStride] (element indices into the two views).
 */
export type RunCopier = (from: number, to: number, count: number, n: number, fromStride: number, toStride: number) => void;

/** Row by row in JavaScript (`mover`). */
export function jsRunCopier(source: HeapArray, target: HeapArray): RunCopier {
  const move = mover(source, target);
  return (from, to, count, n, fromStride, toStride) => {
    for (let r = 0; r < count; r++, from += fromStride, to += toStride) move(from, to, n);
  };
}

/**
 * `move(from, to, n)`: source[from .. from + n) → target[to ..]. Views of one buffer (the heap) move
 * with `copyWithin`, which allocates nothing (a `subarray` per run would); short runs element by
 * element; long ones with `set`, which is faster than `copyWithin` on long runs (one view per long
 * run is nothing).
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

/**
 * The copier for two views of the backend's heap: `copyRuns` on the heap where the SIMD module runs,
 * else row by row. Take the views after the kernel's allocations (they may move the heap).
 */
export function heapRunCopier(backend: WasmHeapBackend, source: HeapArray, target: HeapArray): RunCopier {
  const simd = kernelTuning.copyRunsSimd === 'never' ? null : simdOnHeap(backend);
  if (simd == null || source.buffer !== target.buffer) return jsRunCopier(source, target);
  const bytes = source.BYTES_PER_ELEMENT;
  const copyRuns = simd.k.copyRuns;
  return (from, to, count, n, fromStride, toStride) => {
    if (count === 0 || n === 0) return;
    copyRuns(source.byteOffset + from * bytes, target.byteOffset + to * bytes, count, n * bytes, fromStride * bytes, toStride * bytes);
  };
}
