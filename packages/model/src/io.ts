import { join } from 'node:path';
import { z } from 'zod';
import { UserInputError, disposeCheckpoint, loadCheckpoint, parseWithSchema, saveCheckpoint, writeFileAtomic } from '@autodeeplab/core';
import { writeGenotype } from '@autodeeplab/genotype';
import type { NetworkConfig } from './config.js';
import type { Network } from './network.js';
import {
  NETWORK_FORMAT,
  NETWORK_VERSION,
  PreprocessingSchema,
  networkFromCheckpoint,
  type LoadedNetwork,
  type NetworkFile,
  type Preprocessing,
} from './network-file.js';

export interface SaveNetworkExtras {
  preprocessing: Preprocessing;
  classNames?: string[];
}

function validateExtras(extras: SaveNetworkExtras, config: NetworkConfig): void {
  const { preprocessing, classNames } = parseWithSchema(
    z.object({ preprocessing: PreprocessingSchema, classNames: z.array(z.string()).optional() }),
    extras,
    'saveNetwork extras',
  );
  for (const key of ['mean', 'std'] as const) {
    if (preprocessing[key].length !== config.inChannels) {
      throw new UserInputError(
        `saveNetwork: preprocessing.${key} has ${preprocessing[key].length} values, expected ${config.inChannels} (one per input channel)`,
      );
    }
  }
  if (classNames && classNames.length !== config.numClasses) {
    throw new UserInputError(`saveNetwork: classNames has ${classNames.length} names, expected ${config.numClasses}`);
  }
}

/**
 * Saves a network into `dir`: `genotype.json`, `network.json` (config, preprocessing, class names)
 * and the weights (parameters and BN statistics) as a TensorFlow.js weights manifest (`model.json` +
 * `weights-<hash>.bin`). `model.json` is written last, atomically, and carries the authoritative
 * copies of genotype and network file, so a save killed at any moment leaves the previous save
 * loadable; `genotype.json` / `network.json` are readable copies.
 */
export async function saveNetwork(dir: string, network: Network, extras: SaveNetworkExtras): Promise<void> {
  validateExtras(extras, network.config);
  const file: NetworkFile = {
    format: NETWORK_FORMAT,
    version: NETWORK_VERSION,
    config: network.config,
    preprocessing: extras.preprocessing,
    ...(extras.classNames ? { classNames: extras.classNames } : {}),
    parameterCount: network.parameterCount(),
  };
  await writeGenotype(join(dir, 'genotype.json'), network.genotype);
  await writeFileAtomic(join(dir, 'network.json'), `${JSON.stringify(file, null, 2)}\n`);
  await saveCheckpoint(dir, network.stateDict(), { network: file, genotype: network.genotype });
}

/**
 * Rebuilds a network saved by `saveNetwork` and loads its weights. User ops named by the genotype
 * must be registered first. Errors name the file and the tensor that does not fit.
 */
export async function loadNetwork(dir: string, options: { name?: string } = {}): Promise<LoadedNetwork> {
  const checkpoint = await loadCheckpoint(dir);
  try {
    const sources = { manifest: join(dir, 'model.json'), genotype: join(dir, 'genotype.json'), networkFile: join(dir, 'network.json') };
    return networkFromCheckpoint(checkpoint, sources, options);
  } finally {
    disposeCheckpoint(checkpoint);
  }
}
