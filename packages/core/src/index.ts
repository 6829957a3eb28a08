export * from './errors.js';
export * from './rng.js';
export * from './module.js';
export * from './layers.js';
export * from './backend.js';
export * from './atomic.js';
export * from './memory.js';
export * from './values.js';
export * from './checkpoint-format.js';
export * from './checkpoint.js';
export * from './validate.js';
export * from './shared-state.js';
export * from './printable.js';
export {
  registerMissingKernels,
  missingKernelsRegistered,
  FUSED_KERNEL_NAMES,
  columnDot,
  edgeWeightedSum,
  hasFusedKernels,
  reluGrad,
  sgdStep,
  type SgdStepOptions,
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
export { recomputeInBackward } from './autograd/recompute.js';
export { measureTape, type TapeMemory } from './autograd/tape-memory.js';
export {
  activeTape,
  isVariableNameTaken,
  nestedGradients,
  recordingGradients,
  registeredVariableNames,
  runKernel,
  wasmBackendModule,
  watchKernels,
  type KernelWatcher,
} from './autograd/engine.js';
