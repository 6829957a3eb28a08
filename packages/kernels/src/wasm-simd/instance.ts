import { SIMD_FUNCTION_NAMES, simdModuleBytes, type SimdKernels } from './module.js';

/** The slice of the WebAssembly JS API used here (this package's TS lib has no DOM/WebAssembly types). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: abstract new (...args: never[]) => WasmMemory;
}
const WASM = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** True for a WebAssembly.Memory object. */
export function isWasmMemory(m: unknown): m is WasmMemory {
  return WASM != null && m instanceof WASM.Memory;
}

/** The compiled module: undefined until first needed, null where it does not compile (no SIMD). */
let compiled: object | null | undefined;
const instances = new WeakMap<WasmMemory, SimdKernels>();

/**
 * The SIMD functions bound to `memory`, or null where they cannot run (no WebAssembly SIMD, or a
 * shared memory — the threaded backend — which would need a matching import declaration).
 */
export function simdKernelsFor(memory: WasmMemory): SimdKernels | null {
  const cached = instances.get(memory);
  if (cached != null) return cached;
  if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) return null;
  if (WASM == null) return null;
  if (compiled === undefined) {
    try {
      compiled = new WASM.Module(simdModuleBytes());
    } catch {
      compiled = null; // no SIMD support
    }
  }
  if (compiled == null) return null;
  const instance = new WASM.Instance(compiled, { env: { memory } });
  const kernels = Object.fromEntries(SIMD_FUNCTION_NAMES.map((name) => [name, instance.exports[name]])) as unknown as SimdKernels;
  instances.set(memory, kernels);
  return kernels;
}
