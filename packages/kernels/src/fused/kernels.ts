import type { GradConfig, KernelConfig } from '@tensorflow/tfjs';
import { batchNormalizeKernel } from './batch-normalize.js';
import { batchNormalizeGradKernel } from './batch-normalize-grad.js';
import { columnDotKernel } from './column-dot.js';
import { edgeWeightedSumKernel } from './edge-weighted-sum.js';
import { FUSED_KERNEL_NAMES } from './names.js';
import { RELU_GRADIENTS, reluGradKernel } from './relu-grad.js';
import { sgdStepKernel } from './sgd-step.js';

/**
 * Fused element-wise kernels for the cpu and wasm backends, under kernel names of our own, written
 * as plain loops over the backends' own buffers (the wasm heap, the cpu backend's typed arrays) or,
 * on wasm with SIMD, as the functions of the SIMD module (wasm-simd/). One file per kernel:
 * batch-normalize(-grad).ts, relu-grad.ts, column-dot.ts, edge-weighted-sum.ts, sgd-step.ts; each
 * replaces a chain of several tfjs kernels, some slow on wasm (docs/design/kernels.md).
 */

const FUSED_BACKENDS = ['wasm', 'cpu'] as const;

export const FUSED_KERNELS: readonly KernelConfig[] = [
  { kernelName: FUSED_KERNEL_NAMES.edgeWeightedSum, backendName: 'wasm', kernelFunc: edgeWeightedSumKernel },
  ...FUSED_BACKENDS.flatMap((backendName): KernelConfig[] => [
    { kernelName: FUSED_KERNEL_NAMES.batchNormalize, backendName, kernelFunc: batchNormalizeKernel },
    { kernelName: FUSED_KERNEL_NAMES.batchNormalizeGrad, backendName, kernelFunc: batchNormalizeGradKernel },
    { kernelName: FUSED_KERNEL_NAMES.reluGrad, backendName, kernelFunc: reluGradKernel },
    { kernelName: FUSED_KERNEL_NAMES.columnDot, backendName, kernelFunc: columnDotKernel },
    { kernelName: FUSED_KERNEL_NAMES.sgdStep, backendName, kernelFunc: sgdStepKernel },
  ]),
];

/** The gradients of the fused kernels' users: ReLU through AdlReluGrad. */
export const FUSED_GRADIENTS: readonly GradConfig[] = RELU_GRADIENTS;
