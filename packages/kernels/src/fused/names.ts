import * as tf from '@tensorflow/tfjs';

/** The kernel names of the fused kernels (names of our own: no backend registers them). */
export const FUSED_KERNEL_NAMES = {
  batchNormalize: 'AdlBatchNormalize',
  batchNormalizeGrad: 'AdlBatchNormalizeGrad',
  reluGrad: 'AdlReluGrad',
  columnDot: 'AdlColumnDot',
  edgeWeightedSum: 'AdlEdgeWeightedSum',
  sgdStep: 'AdlSgdStep',
} as const;

/** Whether the current backend has the fused kernels (else callers use the composite forms). */
export function hasFusedKernels(): boolean {
  return tf.getKernel(FUSED_KERNEL_NAMES.reluGrad, tf.getBackend()) != null;
}
