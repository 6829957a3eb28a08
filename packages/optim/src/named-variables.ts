import type * as tf from '@tensorflow/tfjs';
import type { TrainableModel } from './types.js';

/** Parameters by their path in the model's state dict (optimiser and checkpoint names). */
export function nameVariables(model: TrainableModel, variables: readonly tf.Variable[], what: string): Map<string, tf.Variable> {
  const pathOf = new Map<tf.Variable, string>();
  for (const [path, v] of model.stateDict()) pathOf.set(v, path);
  const named = new Map<string, tf.Variable>();
  for (const v of variables) {
    const path = pathOf.get(v);
    if (path === undefined) throw new Error(`${what}: parameter '${v.name}' is not in the model's state dict`);
    named.set(path, v);
  }
  return named;
}

/** `model.config.numClasses` when the model has one (supernets and networks do). */
export function modelNumClasses(model: unknown): number | undefined {
  const n = (model as { config?: { numClasses?: unknown } }).config?.numClasses;
  return typeof n === 'number' ? n : undefined;
}
