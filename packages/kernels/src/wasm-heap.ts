import type { TensorInfo } from '@tensorflow/tfjs';
import { isWasmMemory, simdKernelsFor, type WasmMemory } from './wasm-simd/instance.js';
import type { SimdKernels } from './wasm-simd/module.js';

/** The parts of tfjs-backend-wasm's BackendWasm (4.22) our kernels use to work on its heap in place. */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: TensorInfo['dtype']): TensorInfo;
  /** A view of the tensor's buffer (by its dtype: float32, int32 or bool). */
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  getMemoryOffset(dataId: object): number;
  incRef(dataId: object): void;
  disposeData(dataId: object): unknown;
  /** The Emscripten module: its WebAssembly.Memory is `asm.memory` (Emscripten 3.1) or `wasmMemory`. */
  wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown };
}

export function isWasmHeapBackend(b: unknown): b is WasmHeapBackend {
  const o = b as Partial<WasmHeapBackend> | null;
  return (
    typeof o?.makeOutput === 'function' &&
    typeof o.typedArrayFromHeap === 'function' &&
    typeof o.getMemoryOffset === 'function' &&
    typeof o.incRef === 'function' &&
    typeof o.disposeData === 'function'
  );
}

function heapMemory(b: WasmHeapBackend): WasmMemory | null {
  const m = b.wasm?.asm?.memory ?? b.wasm?.wasmMemory;
  return isWasmMemory(m) ? m : null;
}

/** The SIMD functions (`k`) bound to the heap of a backend (`b`). */
export interface HeapSimd {
  k: SimdKernels;
  b: WasmHeapBackend;
}

/** The backend and the SIMD functions bound to its heap; null where they cannot run (see `simdKernelsFor`). */
export function simdOnHeap(backend: unknown): HeapSimd | null {
  if (!isWasmHeapBackend(backend)) return null;
  const memory = heapMemory(backend);
  const k = memory == null ? null : simdKernelsFor(memory);
  return k == null ? null : { k, b: backend };
}

/**
 * Byte offset of a tensor's buffer on the heap. Read it after the allocations of the kernel (they
 * may grow, and so move, the heap).
 */
export const offsetOf = (b: WasmHeapBackend, t: TensorInfo): number => b.getMemoryOffset(t.dataId);

/** A float32 output on the heap, zeroed (for the SIMD functions, which accumulate into it). */
export function zeroedOutput(b: WasmHeapBackend, shape: number[]): TensorInfo {
  const info = b.makeOutput(shape, 'float32');
  b.typedArrayFromHeap(info).fill(0);
  return info;
}

/**
 * A [rows, cols] float32 scratch tensor on the heap for a kernel's per-channel vectors, zeroed;
 * `row(r)` is the byte offset of row r (read after the kernel's allocations). Dispose it before
 * the kernel returns.
 */
export function heapWorkspace(b: WasmHeapBackend, rows: number, cols: number) {
  const info = zeroedOutput(b, [rows, cols]);
  return {
    values: b.typedArrayFromHeap(info),
    row: (r: number) => offsetOf(b, info) + 4 * r * cols,
    dispose: () => void b.disposeData(info.dataId),
  };
}
