import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs';
import { CONV_GRADIENTS } from './conv/gradients.js';
import { FUSED_GRADIENTS, FUSED_KERNELS } from './fused/kernels.js';
import { MAX_POOL_GRADIENT } from './pool/max-pool-gradient.js';
import { avgPoolGradConfig } from './pool/wasm-avg-pool-grad.js';
import { maxPoolGradConfig } from './pool/wasm-max-pool-grad.js';
import { rememberOriginalKernels } from './replaced-kernels.js';
import { RESIZE_BILINEAR_GRADIENT } from './resize-gradient.js';
import { WASM_CONV_BACKPROP_KERNELS, WASM_CONV_FORWARD_KERNELS } from './wasm-conv/kernels.js';
import { WASM_COPY_KERNELS } from './wasm-copy/kernels.js';
import { addNConfig } from './webgpu/add-n.js';
import { WEBGPU_FUSED_KERNELS } from './webgpu/fused/kernels.js';

/** Our wasm kernels: the missing ones, and replacements of the backend's own (kept for their fallbacks). */
const WASM_KERNELS: readonly KernelConfig[] = [
  ...WASM_CONV_BACKPROP_KERNELS,
  ...WASM_COPY_KERNELS,
  maxPoolGradConfig,
  avgPoolGradConfig,
  ...WASM_CONV_FORWARD_KERNELS,
];

/** Our webgpu kernels: replacements of the backend's own that fail at the supernet's sizes. */
const WEBGPU_KERNELS: readonly KernelConfig[] = [addNConfig];

const GRADIENTS: readonly GradConfig[] = [...CONV_GRADIENTS, MAX_POOL_GRADIENT, RESIZE_BILINEAR_GRADIENT, ...FUSED_GRADIENTS];

/**
 * Installs the kernels and gradients TensorFlow.js lacks. Core's `initBackend` calls it after each
 * backend is loaded; safe to call any number of times. Each call re-installs only what is not ours,
 * so a backend package imported later (which registers its own kernels) is fixed up by the next
 * call. Registrations are replaced by unregister + register, which tfjs does not warn about.
 */
export function registerMissingKernels(): void {
  replaceBackendKernels('wasm', WASM_KERNELS);
  replaceBackendKernels('webgpu', WEBGPU_KERNELS);
  // Kernel names of our own: no backend registers them, so they can be installed at any time.
  for (const config of [...FUSED_KERNELS, ...WEBGPU_FUSED_KERNELS]) installKernel(config);
  for (const config of GRADIENTS) installGradient(config);
}

/**
 * Replaces a backend's own kernels with ours, keeping the originals as fallbacks. Only once the
 * backend package has registered its kernels: registering ours first would make its own registration
 * (at import) warn and override them.
 */
function replaceBackendKernels(backendName: string, configs: readonly KernelConfig[]): void {
  if (tf.getKernel('Conv2D', backendName) == null) return;
  rememberOriginalKernels(configs);
  for (const config of configs) installKernel(config);
}

function installKernel(config: KernelConfig): void {
  const existing = tf.getKernel(config.kernelName, config.backendName);
  if (existing?.kernelFunc === config.kernelFunc) return;
  if (existing != null) tf.unregisterKernel(config.kernelName, config.backendName);
  // A replaced kernel's set-up (e.g. binding its wasm function) runs when its backend is set; ours
  // carries it, so that the original still works as our fallback when the backend is set later.
  const setupFunc = config.setupFunc ?? existing?.setupFunc;
  tf.registerKernel(setupFunc ? { ...config, setupFunc } : config);
}

function installGradient(config: GradConfig): void {
  const existing = tf.getGradient(config.kernelName);
  if (existing === config) return;
  if (existing != null) tf.unregisterGradient(config.kernelName);
  tf.registerGradient(config);
}

/**
 * True when this package's kernels and gradients are the ones registered (for diagnostics and tests);
 * `wasm` covers the fused kernels of every backend too.
 */
export function missingKernelsRegistered(): { wasm: boolean; gradients: boolean } {
  return {
    wasm: [...WASM_KERNELS, ...FUSED_KERNELS, ...WEBGPU_FUSED_KERNELS].every((c) => tf.getKernel(c.kernelName, c.backendName)?.kernelFunc === c.kernelFunc),
    gradients: GRADIENTS.every((c) => tf.getGradient(c.kernelName) === c),
  };
}
