/**
 * A saved network without a file system: the `network.json` format, and rebuilding a network from a
 * checkpoint's tensors and metadata (loaded from a directory by io.ts, from a URL by load-url.ts).
 */
import { z } from 'zod';
import { FileFormatError, UserInputError, parseWithSchema, type Checkpoint } from '@autodeeplab/core';
import { GenotypeSchema, genotypeOps, type Genotype } from '@autodeeplab/genotype';
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

export interface LoadedNetwork {
  network: Network;
  genotype: Genotype;
  config: NetworkConfig;
  preprocessing: Preprocessing;
  classNames?: string[];
}

/** Where a checkpoint came from, for errors: its manifest and the readable copies beside it. */
export interface NetworkSources {
  manifest: string;
  genotype: string;
  networkFile: string;
}

/**
 * Rebuilds the network a checkpoint describes (its metadata holds the genotype and network file) and
 * loads its tensors into it. User ops named by the genotype must be registered first. The checkpoint
 * stays the caller's to dispose.
 */
export function networkFromCheckpoint(checkpoint: Checkpoint, sources: NetworkSources, options: { name?: string } = {}): LoadedNetwork {
  const { manifest } = sources;
  const metadata = parseWithSchema(MetadataSchema, checkpoint.metadata, `${manifest} (metadata)`);
  const genotype = parseWithSchema(GenotypeSchema, metadata.genotype, `${manifest} (metadata.genotype)`);
  const file = parseNetworkFile(metadata.network, `${manifest} (metadata.network)`);
  assertOpsRegistered(genotypeOps(genotype), sources.genotype);
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
    throw new FileFormatError(sources.networkFile, `records ${file.parameterCount} parameters but the rebuilt network has ${found}`);
  }
  const loaded: LoadedNetwork = { network, genotype, config: file.config, preprocessing: file.preprocessing };
  if (file.classNames) loaded.classNames = file.classNames;
  return loaded;
}
