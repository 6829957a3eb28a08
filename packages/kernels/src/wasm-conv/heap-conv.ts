import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { ConvAttrs } from '../conv/geometry.js';
import type { SimdKernels } from '../wasm-simd/module.js';
import { offsetOf, simdOnHeap, zeroedOutput } from '../wasm-heap.js';

/** What the wasm convolution kernels share: argument access and the SIMD filter-gradient frame. */

export const BACKEND = 'wasm';

export type KernelArgs = Parameters<KernelFunc>[0];

export function convAttrsOf(attrs: NamedAttrMap | undefined): ConvAttrs {
  return attrs as unknown as ConvAttrs;
}

export function requireNHWC(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat === 'NCHW') {
    throw new Error(`wasm ${kernel}: dataFormat 'NCHW' is not supported (the wasm convolutions are NHWC only); use 'NHWC'`);
  }
}

/** The kernel's inputs named `a` and `b`. */
export function inputsOf(args: KernelArgs, a: string, b: string): [TensorInfo, TensorInfo] {
  const inputs = args.inputs as Record<string, TensorInfo>;
  return [inputs[a] as TensorInfo, inputs[b] as TensorInfo];
}

/**
 * A filter gradient computed on the heap by one of the SIMD functions into a zeroed output; null
 * where SIMD or the backend's heap is unavailable.
 */
export function filterGradOnHeap(
  backend: unknown,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: number[],
  compute: (k: SimdKernels, xOffset: number, dyOffset: number, outOffset: number) => void,
): TensorInfo | null {
  const simd = x.dtype === 'float32' && dy.dtype === 'float32' ? simdOnHeap(backend) : null;
  if (simd == null) return null;
  const { k, b } = simd;
  const out = zeroedOutput(b, filterShape);
  // Offsets are read after the allocation, which may grow (and so move) the heap.
  compute(k, offsetOf(b, x), offsetOf(b, dy), offsetOf(b, out));
  return out;
}
