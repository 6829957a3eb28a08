import * as tf from '@tensorflow/tfjs';
import { wasmBackendModule, watchKernels } from './autograd/engine.js';

/**
 * Memory measurement for tests, benchmarks and cost models. What is counted depends on the backend:
 * - `wasm-heap` (wasm): the tensor buffers tfjs-backend-wasm allocates on its heap, followed through
 *   its allocator: exact, and a buffer shared by several tensors (a reshape, a clone, a tensor saved
 *   for the backward pass) counts once.
 * - `tensor-bytes` (other backends): tfjs' `tf.memory().numBytes`, read after every kernel; a
 *   buffer shared by k tensors counts k times.
 * Only memory allocated after tracking starts is counted (weights and inputs made before are not).
 */
export type MemorySource = 'wasm-heap' | 'tensor-bytes';

export interface MemoryTracker {
  readonly source: MemorySource;
  /** Bytes allocated since the start and not freed yet. */
  live(): number;
  /** The highest `live()` so far. */
  peak(): number;
  /** Bytes allocated since the start, freed or not. */
  allocated(): number;
  /** Stops tracking (idempotent). */
  stop(): void;
}

/** The allocator entry points of tfjs-backend-wasm's Emscripten module (4.22), looked up on every use. */
interface WasmAllocator {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

function wasmAllocator(): WasmAllocator | null {
  const module = wasmBackendModule<WasmAllocator>();
  return typeof module?._malloc === 'function' && typeof module._free === 'function' ? (module as WasmAllocator) : null;
}

/** What `trackMemory` measures on the current backend. */
export function memorySource(): MemorySource {
  return wasmAllocator() ? 'wasm-heap' : 'tensor-bytes';
}

/** Starts tracking the memory of the current backend (one tracker at a time). */
export function trackMemory(): MemoryTracker {
  const allocator = wasmAllocator();
  return allocator ? trackWasmHeap(allocator) : trackTensorBytes();
}

function trackWasmHeap(allocator: WasmAllocator): MemoryTracker {
  // Emscripten's exports replace themselves with the raw function on first use: use them once so
  // that the wrappers below are not replaced while tracking.
  allocator._free(allocator._malloc(16));
  const { _malloc: malloc, _free: free } = allocator;
  const sizes = new Map<number, number>();
  let live = 0;
  let peak = 0;
  let allocated = 0;
  allocator._malloc = (bytes: number) => {
    const pointer = malloc(bytes);
    sizes.set(pointer >>> 0, bytes);
    live += bytes;
    allocated += bytes;
    if (live > peak) peak = live;
    return pointer;
  };
  allocator._free = (pointer: number) => {
    // Buffers from before the start were not counted when allocated, so not when freed either.
    const bytes = sizes.get(pointer >>> 0);
    if (bytes !== undefined) {
      live -= bytes;
      sizes.delete(pointer >>> 0);
    }
    free(pointer);
  };
  let stopped = false;
  return {
    source: 'wasm-heap',
    live: () => live,
    peak: () => peak,
    allocated: () => allocated,
    stop: () => {
      if (stopped) return;
      stopped = true;
      allocator._malloc = malloc;
      allocator._free = free;
    },
  };
}

function trackTensorBytes(): MemoryTracker {
  const start = tf.memory().numBytes;
  let peak = 0;
  let allocated = 0;
  // Bytes held when each running kernel started (kernels may launch kernels).
  const before: number[] = [];
  const live = () => tf.memory().numBytes - start;
  const stop = watchKernels({
    before: () => {
      before.push(tf.memory().numBytes);
    },
    after: () => {
      // A kernel's outputs: what it added (its own temporaries are freed before it returns).
      allocated += Math.max(0, tf.memory().numBytes - (before.pop() ?? 0));
      peak = Math.max(peak, live());
    },
  });
  return {
    source: 'tensor-bytes',
    live,
    peak: () => Math.max(peak, live()),
    allocated: () => allocated,
    stop,
  };
}

export interface PeakMemory<T> {
  result: T;
  /** Peak bytes held during the call on top of what was held when it started. */
  peakBytes: number;
  source: MemorySource;
}

/** Runs `fn` and measures the peak of the memory it holds on top of what existed before (weights, inputs). */
export function measurePeakBytes<T>(fn: () => T): PeakMemory<T> {
  const tracker = trackMemory();
  try {
    const result = fn();
    return { result, peakBytes: tracker.peak(), source: tracker.source };
  } finally {
    tracker.stop();
  }
}
