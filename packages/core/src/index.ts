// Node's entry: everything a web page has (browser.ts), and what needs Node: backends, files, Dawn.
export * from './browser.js';
export * from './backend.js';
export * from './atomic.js';
export * from './checkpoint.js';
export {
  ADAPTER_KINDS,
  DAWN_BACKENDS,
  isSoftwareAdapter,
  noAdapterHint,
  webGpuAdapter,
  type AdapterDescription,
  type AdapterKind,
  type DawnBackend,
  type WebGpuOptions,
} from '@autodeeplab/kernels';
