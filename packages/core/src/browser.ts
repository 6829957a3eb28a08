/**
 * @autodeeplab/core in a web page (the package's `browser` export): no Node built-ins. Left out are
 * what needs a file system or Node's backends: atomic writes, checkpoint directories (load from a URL
 * with `loadCheckpointFromUrl`) and `initBackend` (a page picks its tfjs backend itself).
 */
export * from './errors.js';
export * from './rng.js';
export * from './module.js';
export * from './layers.js';
export * from './memory.js';
export * from './values.js';
export * from './checkpoint-format.js';
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
