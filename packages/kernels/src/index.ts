import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs';
import { CONV_GRADIENTS } from './conv-gradients.js';
import { MAX_POOL_GRADIENT } from './maxpool-gradient.js';
import { RESIZE_BILINEAR_GRADIENT } from './resize-gradient.js';
import { WASM_KERNELS } from './wasm-kernels.js';
import { WASM_COPY_KERNELS, rememberOriginalCopyKernels } from './wasm-copy-kernels.js';
import { WASM_POOL_GRADIENT_KERNELS, rememberOriginalPoolGradientKernels } from './pool-gradients.js';
import { WASM_POINTWISE_CONV_KERNELS, rememberOriginalConvKernel } from './pointwise-conv.js';

const WASM_ALL: readonly KernelConfig[] = [...WASM_KERNELS, ...WASM_COPY_KERNELS, ...WASM_POOL_GRADIENT_KERNELS, ...WASM_POINTWISE_CONV_KERNELS];

import { FUSED_GRADIENTS, FUSED_KERNELS } from './fused-kernels.js';

const GRADIENTS: GradConfig[] = [...CONV_GRADIENTS, MAX_POOL_GRADIENT, RESIZE_BILINEAR_GRADIENT, ...FUSED_GRADIENTS];

/**
 * Kernels and gradients TensorFlow.js lacks. Called by `initBackend` after each backend is loaded;
 * safe to call any number of times. Each call re-installs only what is not ours, so a backend
 * package imported later (which registers its own kernels) is fixed up by the next call.
 * Registrations are replaced by unregister + register, which tfjs does not warn about.
 */
export function registerMissingKernels(): void {
  // Only once tfjs-backend-wasm has registered its kernels: registering ours first would make its
  // own registration (at import) warn and override them.
  if (tf.getKernel('Conv2D', 'wasm') != null) {
    rememberOriginalCopyKernels();
    rememberOriginalPoolGradientKernels();
    rememberOriginalConvKernel();
    for (const config of WASM_ALL) installKernel(config);
  }
  // Kernel names of our own: no backend registers them, so they can be installed at any time.
  for (const config of FUSED_KERNELS) installKernel(config);
  for (const config of GRADIENTS) installGradient(config);
}

function installKernel(config: KernelConfig): void {
  const existing = tf.getKernel(config.kernelName, config.backendName);
  if (existing?.kernelFunc === config.kernelFunc) return;
  if (existing != null) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

function installGradient(config: GradConfig): void {
  const existing = tf.getGradient(config.kernelName);
  if (existing === config) return;
  if (existing != null) tf.unregisterGradient(config.kernelName);
  tf.registerGradient(config);
}

/** True when this module's kernels and gradients are the ones registered (for diagnostics and tests). */
export function missingKernelsRegistered(): { wasm: boolean; gradients: boolean } {
  return {
    wasm: [...WASM_ALL, ...FUSED_KERNELS].every((c) => tf.getKernel(c.kernelName, c.backendName)?.kernelFunc === c.kernelFunc),
    gradients: GRADIENTS.every((c) => tf.getGradient(c.kernelName) === c),
  };
}

export { FUSED_KERNEL_NAMES, columnDot, edgeWeightedSum, hasFusedKernels, reluGrad, sgdStep, type SgdStepOptions } from './fused-kernels.js';
export { convGeometry, convBackpropInput, conv2dBackpropFilter, depthwiseBackpropFilter } from './conv-backprop.js';
export type { ConvGeometry } from './conv-backprop.js';
export { isWasmHeapBackend, type WasmHeapBackend } from './wasm-heap.js';
