import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll } from 'vitest';
import { useBackend } from './backend.js';

/**
 * For a `describe` block of kernel tests: the wasm backend, with tfjs's per-kernel leak check
 * (`IS_TEST`) on while the block runs and restored after it.
 */
export function useWasmWithLeakCheck(): void {
  let isTestBefore = false;
  beforeAll(async () => {
    await useBackend('wasm');
    isTestBefore = tf.env().getBool('IS_TEST');
    tf.env().set('IS_TEST', true);
  });
  afterAll(() => {
    tf.env().set('IS_TEST', isTestBefore);
  });
}
