import type { KernelConfig } from '@tensorflow/tfjs';
import { FUSED_KERNEL_NAMES } from '../../fused/names.js';
import { batchNormalizeWebGpu } from './batch-normalize.js';
import { batchNormalizeGradWebGpu } from './batch-normalize-grad.js';
import { columnDotWebGpu } from './column-dot.js';
import { edgeWeightedSumWebGpu } from './edge-weighted-sum.js';
import { reluGradWebGpu } from './relu-grad.js';
import { sgdStepWebGpu } from './sgd-step.js';

/**
 * The fused kernels (fused/) on webgpu, as WGSL programs run through the backend's
 * `runWebGPUProgram`: the same inputs, attributes and outputs as on cpu, in one to three launches
 * each where the composite forms take several. All six or none: callers check one name
 * (`hasFusedKernels`) and then run any of them. Kernel names of our own, so they can be registered
 * before the webgpu backend is.
 */
export const WEBGPU_FUSED_KERNELS: readonly KernelConfig[] = [
  { kernelName: FUSED_KERNEL_NAMES.batchNormalize, backendName: 'webgpu', kernelFunc: batchNormalizeWebGpu },
  { kernelName: FUSED_KERNEL_NAMES.batchNormalizeGrad, backendName: 'webgpu', kernelFunc: batchNormalizeGradWebGpu },
  { kernelName: FUSED_KERNEL_NAMES.reluGrad, backendName: 'webgpu', kernelFunc: reluGradWebGpu },
  { kernelName: FUSED_KERNEL_NAMES.columnDot, backendName: 'webgpu', kernelFunc: columnDotWebGpu },
  { kernelName: FUSED_KERNEL_NAMES.edgeWeightedSum, backendName: 'webgpu', kernelFunc: edgeWeightedSumWebGpu },
  { kernelName: FUSED_KERNEL_NAMES.sgdStep, backendName: 'webgpu', kernelFunc: sgdStepWebGpu },
];
