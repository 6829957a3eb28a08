import { UserInputError } from '@autodeeplab/core';
import { GENOTYPE_FORMAT, GENOTYPE_VERSION, GenotypeSchema, SCALES, type Genotype, type Scale } from '@autodeeplab/genotype';
import { decodeCell, type EdgeStrength } from './cell.js';
import type { MatrixLike, VectorLike } from './numeric.js';
import { viterbi } from './viterbi.js';

/** The part of a search-space config decoding needs; the whole config (any other fields too) is recorded in the genotype. */
export interface DecodableConfig {
  layers: number;
  blocks: number;
  /** Default [4, 8, 16, 32]. */
  scales?: readonly number[];
  ops: readonly string[];
}

/** A supernet, or anything holding its architecture parameters (logits) and config. */
export interface ArchitectureSource {
  alpha: MatrixLike;
  beta: VectorLike;
  config: DecodableConfig;
}

export interface DecodeOptions {
  name?: string;
  /** Where α and β came from (a checkpoint path, a run id); default 'supernet'. */
  source?: string;
  epoch?: number;
  step?: number;
  /** Default: now. */
  createdAt?: Date | string;
  /** Edge strength measure for the cell; default `softmax` (see EdgeStrength). */
  strength?: EdgeStrength;
}

function checkScales(scales: readonly number[]): Scale[] {
  for (const s of scales) {
    if (!(SCALES as readonly number[]).includes(s)) {
      throw new UserInputError(`config.scales: expected values among ${SCALES.join(', ')}, found ${s}`);
    }
  }
  return scales as Scale[];
}

/**
 * Decodes a searched architecture: the cell from α (top-2 edges per block, `none` excluded) and the
 * network path from β (Viterbi). The result is validated against the genotype schema.
 */
export function decode(source: ArchitectureSource, options: DecodeOptions = {}): Genotype {
  const { config } = source;
  const scales = checkScales(config.scales ?? SCALES);
  const cell = decodeCell(source.alpha, { ops: config.ops, blocks: config.blocks, strength: options.strength ?? 'softmax' });
  const { path, probability } = viterbi(source.beta, { layers: config.layers, scales });
  const createdAt = options.createdAt ?? new Date();
  const genotype: Genotype = {
    format: GENOTYPE_FORMAT,
    version: GENOTYPE_VERSION,
    ...(options.name !== undefined ? { name: options.name } : {}),
    cell,
    path,
    pathProbability: probability,
    search: {
      // A plain-data copy: the genotype file is JSON.
      config: JSON.parse(JSON.stringify(config)) as Record<string, unknown>,
      source: options.source ?? 'supernet',
      ...(options.epoch !== undefined ? { epoch: options.epoch } : {}),
      ...(options.step !== undefined ? { step: options.step } : {}),
      createdAt: typeof createdAt === 'string' ? createdAt : createdAt.toISOString(),
    },
  };
  const parsed = GenotypeSchema.safeParse(genotype);
  if (!parsed.success) throw new UserInputError(`decoded genotype is invalid: ${parsed.error.message}`);
  return parsed.data;
}
