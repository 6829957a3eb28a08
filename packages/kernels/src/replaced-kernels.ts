import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

/**
 * The backends' own kernels that ours replace, kept so that ours can leave them the cases they do
 * not handle (string tensors, shapes without a fast path). Keyed by backend and kernel name.
 */
const originals = new Map<string, KernelFunc>();
const key = (backendName: string, kernelName: string) => `${backendName}/${kernelName}`;

/** Keeps the backend's kernels that `configs` replace (call before replacing them). */
export function rememberOriginalKernels(configs: readonly KernelConfig[]): void {
  for (const { kernelName, backendName, kernelFunc } of configs) {
    const existing = tf.getKernel(kernelName, backendName);
    if (existing != null && existing.kernelFunc !== kernelFunc) originals.set(key(backendName, kernelName), existing.kernelFunc);
  }
}

/** Whether the backend's own kernel `kernelName` is known (so ours may defer to it). */
export function hasOriginalKernel(backendName: string, kernelName: string): boolean {
  return originals.has(key(backendName, kernelName));
}

/** Runs the backend's own kernel `kernelName`. */
export function runOriginalKernel(backendName: string, kernelName: string, args: Parameters<KernelFunc>[0]): TensorInfo | TensorInfo[] {
  const kernel = originals.get(key(backendName, kernelName));
  if (kernel == null) throw new Error(`${backendName} ${kernelName}: the backend's own kernel is not available`);
  return kernel(args);
}
