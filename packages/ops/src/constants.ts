import * as tf from '@tensorflow/tfjs';

/**
 * Small constant tensors made once and kept for the process' life, one per backend: a tensor made
 * on one backend is moved to another on first use there by a synchronous read, which the webgpu
 * backend does not have in Node.
 */
const constants = new Map<string, tf.Tensor>();

export function backendConstant<T extends tf.Tensor>(key: string, make: () => T): T {
  const backendKey = `${tf.getBackend()}:${key}`;
  let found = constants.get(backendKey);
  if (!found) {
    found = tf.keep(tf.tidy(make));
    constants.set(backendKey, found);
  }
  return found as T;
}
