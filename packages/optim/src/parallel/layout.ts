import type * as tf from '@tensorflow/tfjs';
import { UserInputError } from '@autodeeplab/core';
import type { TrainableModel } from '../types.js';
import type { LayoutEntry, StateLayout } from './protocol.js';

/** One float32 slot per state-dict entry, in state-dict order (identical in every replica). */
export function stateLayout(model: TrainableModel): StateLayout {
  const parameters = new Set<tf.Variable>(model.parameters());
  const entries: LayoutEntry[] = [];
  let offset = 0;
  for (const [path, v] of model.stateDict()) {
    if (v.dtype !== 'float32') throw new UserInputError(`parallel workers carry float32 state only; '${path}' is ${v.dtype}`);
    entries.push({ path, shape: [...v.shape], offset, size: v.size, parameter: parameters.has(v) });
    offset += v.size;
  }
  return { entries, length: offset };
}

/** The model's state variables in layout order, after checking that its state dict has the layout's paths and shapes. */
export function variablesInLayout(model: TrainableModel, layout: StateLayout, what: string): tf.Variable[] {
  const state = model.stateDict();
  const problems: string[] = [];
  const out: tf.Variable[] = [];
  for (const entry of layout.entries) {
    const v = state.get(entry.path);
    if (!v) problems.push(`missing '${entry.path}'`);
    else if (v.shape.join(',') !== entry.shape.join(',')) problems.push(`'${entry.path}' has shape [${v.shape}], the main copy [${entry.shape}]`);
    else out.push(v);
  }
  if (state.size !== layout.entries.length) problems.push(`${state.size} state entries, the main copy has ${layout.entries.length}`);
  if (problems.length > 0) {
    const more = problems.length > 6 ? ` (and ${problems.length - 6} more)` : '';
    throw new UserInputError(`${what}: the rebuilt model differs from the main copy: ${problems.slice(0, 6).join('; ')}${more}`);
  }
  return out;
}
