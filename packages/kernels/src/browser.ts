/**
 * @autodeeplab/kernels in a web page (the package's `browser` export): everything but the Dawn adapter,
 * which is Node's way to WebGPU (a page has `navigator.gpu`). Importing it registers nothing.
 */

// Installation.
export { registerMissingKernels, missingKernelsRegistered } from './register.js';

// Fused kernels and the ops that run them (falling back to tf ops elsewhere).
export { FUSED_KERNEL_NAMES, columnDot, edgeWeightedSum, hasFusedKernels, reluGrad, sgdStep, type SgdStepOptions } from './fused/index.js';

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
