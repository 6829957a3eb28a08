/**
 * @autodeeplab/kernels: the TensorFlow.js kernels and gradients autodeeplab needs and TensorFlow.js
 * 4.22 lacks. Importing this module registers nothing; `registerMissingKernels()` does. Node's entry:
 * everything a web page has (browser.ts), and the Dawn adapter.
 */
export * from './browser.js';

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
