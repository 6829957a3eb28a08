export { FUSED_KERNEL_NAMES, hasFusedKernels } from './names.js';
export { reluGrad } from './relu-grad.js';
export { columnDot } from './column-dot.js';
export { edgeWeightedSum } from './edge-weighted-sum.js';
export { sgdStep, type SgdStepOptions } from './sgd-step.js';
export { FUSED_GRADIENTS, FUSED_KERNELS } from './kernels.js';
