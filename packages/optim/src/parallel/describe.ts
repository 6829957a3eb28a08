import { UserInputError } from '@autodeeplab/core';
import type { TrainableModel } from '../types.js';
import type { ModelDescriptor } from './protocol.js';

/**
 * The descriptor a worker rebuilds `model` from: the one `given` (the `replica` option), else the
 * model's own `replica()` (a Supernet of `@autodeeplab/search-space` describes itself); other models
 * need one given, e.g. `{ module: '@autodeeplab/model', export: 'buildNetwork', args: [genotype, options] }`.
 */
export function describeModel(model: TrainableModel, given?: ModelDescriptor): ModelDescriptor {
  if (given) return given;
  if (typeof model.replica === 'function') return model.replica();
  throw new UserInputError(
    'workers > 1 needs a way to rebuild the model in each worker: pass `replica: { module, export, args }` ' +
      '(or give the model a `replica()` method, as a Supernet has)',
  );
}
