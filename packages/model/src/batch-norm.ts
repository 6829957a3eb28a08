import { BatchNorm, type Module } from '@autodeeplab/core';

/** The BN constants of the discrete network, in TensorFlow's terms. */
export interface BatchNormConstants {
  epsilon: number;
  /** `running = decay·running + (1 − decay)·batch`. */
  decay: number;
}

/** Every BatchNorm below `module` (itself included), in module order. */
export function batchNormsOf(module: Module): BatchNorm[] {
  const found: BatchNorm[] = module instanceof BatchNorm ? [module] : [];
  for (const child of module.children().values()) found.push(...batchNormsOf(child));
  return found;
}

/**
 * Gives every BatchNorm below `module` the network's ε and decay. The ops' factories (shared with
 * the search supernet, which keeps core's defaults) and user ops build their BNs without these
 * options, so the network sets them once after building; core's BatchNorm fixes them at
 * construction, hence the assignment past `readonly`. Momentum in core's convention is 1 − decay.
 */
export function setBatchNormConstants(module: Module, constants: BatchNormConstants): void {
  for (const bn of batchNormsOf(module)) Object.assign(bn, { epsilon: constants.epsilon, momentum: 1 - constants.decay });
}
