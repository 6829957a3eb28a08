import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

/**
 * Kernels of ours that replace a backend's own of the same names, keeping the backend's kernels for
 * the cases ours leave to them (`fallback`).
 */
export class KernelReplacements {
  readonly configs: readonly KernelConfig[];
  private readonly originals = new Map<string, KernelFunc>();

  constructor(
    private readonly backendName: string,
    private readonly replaced: readonly (readonly [string, KernelFunc])[],
  ) {
    this.configs = replaced.map(([kernelName, kernelFunc]) => ({ kernelName, backendName, kernelFunc }));
  }

  /** Keeps the backend's kernels that ours replace (call before replacing them). */
  remember(): void {
    for (const [name, ours] of this.replaced) {
      const existing = tf.getKernel(name, this.backendName);
      if (existing != null && existing.kernelFunc !== ours) this.originals.set(name, existing.kernelFunc);
    }
  }

  /** Whether the backend's own kernel `name` is known (so ours may defer to it). */
  hasOriginal(name: string): boolean {
    return this.originals.has(name);
  }

  /** Runs the backend's own kernel `name`. */
  fallback(name: string, args: Parameters<KernelFunc>[0]): TensorInfo | TensorInfo[] {
    const kernel = this.originals.get(name);
    if (kernel == null) throw new Error(`${this.backendName} ${name}: the backend's own kernel is not available`);
    return kernel(args);
  }
}
