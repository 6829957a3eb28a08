import * as tf from '@tensorflow/tfjs';
import { registerMissingKernels } from '../index.js';
import { registerWebGpuBackend } from '../webgpu/device.js';

/** The backends the kernel tests run on. */
export type TestBackend = 'wasm' | 'cpu' | 'webgpu';

/**
 * Switches tfjs to `name` and installs this package's kernels, as core's `initBackend` does for
 * users (tests of this package cannot import core, which sits above it).
 */
export async function useBackend(name: TestBackend): Promise<void> {
  // tfjs's console notices (e.g. "running TensorFlow.js in Node.js") are silenced by PROD.
  tf.env().set('PROD', true);
  // Imported only when asked for, as core's initBackend does: once imported, the next
  // registerMissingKernels replaces its kernels, which must happen after the backend has set them up.
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  // Any adapter: CI has only Mesa's software rasteriser. No adapter is a failure, never a skip.
  if (name === 'webgpu') await registerWebGpuBackend({ adapter: 'any' });
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
  registerMissingKernels();
}
