import { join } from 'node:path';
import { z } from 'zod';
import { FileFormatError, UserInputError, disposeCheckpoint, loadCheckpoint, parseWithSchema, saveCheckpoint, writeFileAtomic } from '@autodeeplab/core';
import { GenotypeSchema, genotypeOps, writeGenotype, type Genotype } from '@autodeeplab/genotype';
import { assertOpsRegistered } from '@autodeeplab/ops';
import { NetworkConfigSchema, type NetworkConfig } from './config.js';
import { Network } from './network.js';

export const NETWORK_FORMAT = 'autodeeplab-network';
export const NETWORK_VERSION = 2;

/**
 * Version 1 files predate these config fields; their networks were trained with these values (core's
 * BN defaults and the strided dilated conv), which loading them keeps.
 */
const VERSION_1_DEFAULTS = { batchNormEpsilon: 1e-5, batchNormDecay: 0.9, atrousDownsampling: 'strided' } as const;

export const PreprocessingSchema = z.object({
  /** Per-channel mean and standard deviation subtracted / divided from images scaled to [0, 1]. */
  mean: z.array(z.number()).min(1),
  std: z.array(z.number().positive()).min(1),
});
export type Preprocessing = z.infer<typeof PreprocessingSchema>;

/** `network.json`: what, with the genotype, rebuilds the network and prepares its inputs. */
export const NetworkFileSchema = z.object({
  format: z.literal(NETWORK_FORMAT),
  version: z.union([z.literal(1), z.literal(NETWORK_VERSION)]),
  config: NetworkConfigSchema,
  preprocessing: PreprocessingSchema,
  classNames: z.array(z.string()).optional(),
  parameterCount: z.number().int().nonnegative(),
});
export type NetworkFile = z.infer<typeof NetworkFileSchema>;

/** A version 1 network file with the values its network was trained with filled in (others unchanged). */
function withVersion1Defaults(file: unknown): unknown {
  if (typeof file !== 'object' || file === null) return file;
  const { version, config } = file as { version?: unknown; config?: unknown };
  if (version !== 1 || typeof config !== 'object' || config === null) return file;
  return { ...file, config: { ...VERSION_1_DEFAULTS, ...config } };
}

/** Validates a `network.json` (any version; version 1 gets the values its network was trained with). */
export function parseNetworkFile(data: unknown, source: string): NetworkFile {
  return parseWithSchema(NetworkFileSchema, withVersion1Defaults(data), source);
}

/** The checkpoint metadata: the authoritative copies of genotype and network file. */
const MetadataSchema = z.object({ network: z.unknown(), genotype: z.unknown() });

export interface SaveNetworkExtras {
  preprocessing: Preprocessing;
  classNames?: string[];
}

export interface LoadedNetwork {
  network: Network;
  genotype: Genotype;
  config: NetworkConfig;
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
  const manifest = join(dir, 'model.json');
  const checkpoint = await loadCheckpoint(dir);
  try {
    const metadata = parseWithSchema(MetadataSchema, checkpoint.metadata, `${manifest} (metadata)`);
    const genotype = parseWithSchema(GenotypeSchema, metadata.genotype, `${manifest} (metadata.genotype)`);
    const file = parseNetworkFile(metadata.network, `${manifest} (metadata.network)`);
    assertOpsRegistered(genotypeOps(genotype), join(dir, 'genotype.json'));
    const network = new Network(genotype, file.config, options.name === undefined ? {} : { name: options.name });
    try {
      network.loadStateDict(checkpoint.tensors, { source: manifest });
    } catch (error) {
      network.dispose();
      throw error instanceof UserInputError && !(error instanceof FileFormatError)
        ? new FileFormatError(manifest, error.message.replace(`${manifest}: `, ''), { cause: error })
        : error;
    }
    if (network.parameterCount() !== file.parameterCount) {
      const found = network.parameterCount();
      network.dispose();
      throw new FileFormatError(join(dir, 'network.json'), `records ${file.parameterCount} parameters but the rebuilt network has ${found}`);
    }
    const loaded: LoadedNetwork = { network, genotype, config: file.config, preprocessing: file.preprocessing };
    if (file.classNames) loaded.classNames = file.classNames;
    return loaded;
  } finally {
    disposeCheckpoint(checkpoint);
  }
}
