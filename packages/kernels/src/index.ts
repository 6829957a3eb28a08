/**
 * @autodeeplab/kernels: the TensorFlow.js kernels and gradients autodeeplab needs and TensorFlow.js
 * 4.22 lacks. Importing this module registers nothing; `registerMissingKernels()` does.
 */

// Installation.
export { registerMissingKernels, missingKernelsRegistered } from './register.js';

// Fused kernels and the ops that run them (falling back to tf ops elsewhere).
export { FUSED_KERNEL_NAMES, columnDot, edgeWeightedSum, hasFusedKernels, reluGrad, sgdStep, type SgdStepOptions } from './fused/index.js';

// The WebGPU backend: a Dawn adapter of our choosing, and what went wrong on its device.
export {
  ADAPTER_KINDS,
  DAWN_BACKENDS,
  NoAdapterError,
  isSoftwareAdapter,
  noAdapterHint,
  platformDawnBackends,
  type AdapterDescription,
  type AdapterKind,
  type DawnBackend,
  type WebGpuOptions,
} from './webgpu/adapter.js';
export { GpuDeviceError, registerWebGpuBackend, webGpuAdapter } from './webgpu/device.js';

// The wasm backend's heap.
export { isWasmHeapBackend, type WasmHeapBackend } from './wasm-heap.js';

// Tuning and diagnostics: which path the kernels with several take.
export { kernelTuning, DEFAULT_KERNEL_TUNING, type KernelTuning } from './tuning.js';
export { kernelPathCounts, type KernelPathCounts } from './path-counts.js';

// Building blocks, for benchmarks: the convolution gradients as forward convolutions (the XNNPACK
// formulation on wasm), run through a backend's registered kernels.
export { convGeometry, type ConvGeometry, type ConvAttrs, type ConvPad } from './conv/geometry.js';
export { convBackpropInput, conv2dBackpropFilter, depthwiseBackpropFilter } from './conv/backprop.js';
export { kernelPrims, tensorPrims, type Prims, type SpatialPads } from './prims.js';
