import type { KernelConfig } from '@tensorflow/tfjs';
import { concatConfig } from './concat.js';
import { identityConfig } from './identity.js';
import { sliceConfig, splitVConfig } from './slice.js';

/**
 * Copy kernels for tfjs-backend-wasm 4.22 that do not copy more than they must. They replace the
 * backend's own, which serve what ours leave (string tensors); `registerMissingKernels` keeps those
 * first.
 */
export const WASM_COPY_KERNELS: readonly KernelConfig[] = [identityConfig, sliceConfig, splitVConfig, concatConfig];
