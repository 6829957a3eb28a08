/**
 * The tfjs backend the page runs on: WebGPU where the browser has it, else WebGL, else wasm (or the
 * one the address asks for with `?backend=`). Each try's outcome is kept, so the page can say why.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { registerMissingKernels } from '@autodeeplab/core';

export const PAGE_BACKENDS = ['webgpu', 'webgl', 'wasm'] as const;
export type PageBackend = (typeof PAGE_BACKENDS)[number];

export interface BackendChoice {
  backend: PageBackend;
  /** Backends tried before it, and why each was passed over. */
  skipped: { backend: PageBackend; reason: string }[];
}

// The wasm binaries are assets of the site, next to the page, not fetched from a CDN.
setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd });

/** Why a backend cannot run here, or null when it is set and working. */
async function trySetBackend(backend: PageBackend): Promise<string | null> {
  if (backend === 'webgpu') {
    const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    if (!gpu) return 'this browser has no WebGPU (navigator.gpu)';
    if (!(await gpu.requestAdapter().catch(() => null))) return 'WebGPU has no adapter here';
  }
  try {
    if (!(await tf.setBackend(backend))) return `tfjs could not initialise ${backend}`;
    await tf.ready();
    // A backend can initialise and still fail at its first kernel (a lost context, a missing extension).
    tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1))).dispose();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Sets the first backend that works, of `wanted` alone or of WebGPU, WebGL, wasm in that order. */
export async function chooseBackend(wanted: PageBackend | null): Promise<BackendChoice> {
  const skipped: BackendChoice['skipped'] = [];
  for (const backend of wanted ? [wanted] : PAGE_BACKENDS) {
    const problem = await trySetBackend(backend);
    if (problem === null) {
      // Our kernels for the backends now registered (wasm's replacements, the fused kernels).
      registerMissingKernels();
      return { backend, skipped };
    }
    skipped.push({ backend, reason: problem });
  }
  throw new Error(`no backend works here: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
}

/** The `?backend=` of the address, checked. */
export function backendFromAddress(search: string): PageBackend | null {
  const value = new URLSearchParams(search).get('backend');
  if (value === null || value === '' || value === 'auto') return null;
  if (!(PAGE_BACKENDS as readonly string[]).includes(value)) throw new Error(`?backend=${value}: expected one of auto, ${PAGE_BACKENDS.join(', ')}`);
  return value as PageBackend;
}
