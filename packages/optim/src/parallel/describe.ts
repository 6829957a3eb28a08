import { UserInputError } from '@autodeeplab/core';
import { Supernet } from '@autodeeplab/search-space';
import type { TrainableModel } from '../types.js';
import type { ModelDescriptor } from './protocol.js';

/**
 * The descriptor a worker rebuilds `model` from: derived for a `Supernet`; other models need one
 * given (`replica` option), e.g. `{ module: '@autodeeplab/model', export: 'buildNetwork', args: [genotype, options] }`.
 */
export function describeModel(model: TrainableModel, given?: ModelDescriptor): ModelDescriptor {
  if (given) return given;
  if (model instanceof Supernet) {
    // Every option that changes what a step computes or holds (seed: the weights come from the main copy).
    const options = { name: model.name, fused: model.fused, checkpoint: model.checkpoint, replayBudgetBytes: model.replayBudgetBytes };
    return { module: '@autodeeplab/search-space', export: 'Supernet', args: [model.config, options] };
  }
  throw new UserInputError(
    'workers > 1 needs a way to rebuild the model in each worker: pass `replica: { module, export, args }` (only a Supernet is described automatically)',
  );
}
