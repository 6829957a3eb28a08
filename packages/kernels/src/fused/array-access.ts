import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs';
import { isWasmHeapBackend } from '../wasm-heap.js';

/** Typed-array access to a backend's tensors: outputs first (allocation may move the wasm heap), then views. */
export interface ArrayAccess {
  output(shape: number[]): TensorInfo;
  view(t: TensorInfo): Float32Array;
}

interface CpuArrays {
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
  data: { get(dataId: object): { values: unknown } };
}

export function arrayAccess(backend: KernelBackend): ArrayAccess {
  if (isWasmHeapBackend(backend)) {
    // The kernels take float32 tensors only (their callers check).
    return { output: (shape) => backend.makeOutput(shape, 'float32'), view: (t) => backend.typedArrayFromHeap(t) as Float32Array };
  }
  const cpu = backend as unknown as CpuArrays;
  return {
    output: (shape) => cpu.makeTensorInfo(shape, 'float32', new Float32Array(shape.reduce((a, b) => a * b, 1))),
    view: (t) => {
      const values = cpu.data.get(t.dataId).values;
      if (!(values instanceof Float32Array)) throw new Error(`fused kernels: expected float32 values, found ${t.dtype}`);
      return values;
    },
  };
}
