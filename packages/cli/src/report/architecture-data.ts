import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { decodeCell, normalizeBeta, viterbi } from '@autodeeplab/decode';
import { GenotypeSchema, ScaleSchema, cellEdges, type Block, type Genotype, type Scale } from '@autodeeplab/genotype';
import { GENOTYPES_DIR, epochGenotypeFile, type ArchEvent } from '@autodeeplab/optim';

/** The search space's shape, which α's rows and columns and β's entries follow. */
export interface SearchShape {
  layers: number;
  blocks: number;
  scales: Scale[];
  ops: string[];
}

/** The architecture after one epoch of a search. */
export interface EpochArchitecture {
  /** 1-based, as the command line reports epochs. */
  epoch: number;
  path: Scale[];
  /** Product of the normalised β along the path. */
  pathProbability: number | null;
  cell: Block[] | null;
  /** Why the search's decoder gave no genotype, when it did not (the cell is then decoded here from α). */
  decodeError: string | null;
  /** β normalised per node (softmax over its outgoing edges), in β's order. */
  beta: number[] | null;
  /** softmax(α) per cell edge (rows in α's order, one column per op). */
  alpha: number[][] | null;
}

export interface ArchitectureData {
  shape: SearchShape;
  epochs: EpochArchitecture[];
}

const ShapeSchema = z.object({
  layers: z.number().int().positive(),
  blocks: z.number().int().positive(),
  scales: z.array(ScaleSchema).min(1),
  ops: z.array(z.string()).min(1),
});

/** The search space of a run: config.yaml's `searchSpace`, else what a genotype recorded of it. */
export function searchShapeOf(config: Record<string, unknown> | null, genotype: Genotype | null): SearchShape | null {
  const fromConfig = ShapeSchema.safeParse(config?.searchSpace);
  if (fromConfig.success) return fromConfig.data;
  const fromGenotype = ShapeSchema.safeParse({ scales: [4, 8, 16, 32], ...(genotype?.search?.config ?? {}) });
  return fromGenotype.success ? fromGenotype.data : null;
}

function softmax(row: readonly number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** The genotype an arch event carries, else the one written to genotypes/epoch-NNN.json, else null. */
async function genotypeOf(runDir: string, event: ArchEvent): Promise<Genotype | null> {
  const carried = GenotypeSchema.safeParse(event.genotype);
  if (carried.success) return carried.data;
  const text = await readFile(join(runDir, GENOTYPES_DIR, epochGenotypeFile(event.epoch + 1)), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const parsed = GenotypeSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function alphaRows(event: ArchEvent, shape: SearchShape): number[][] | null {
  const alpha = event.parameters.alpha;
  const rows = cellEdges(shape.blocks).length;
  if (!alpha || alpha.values.length !== rows * shape.ops.length || alpha.values.some((v) => !Number.isFinite(v))) return null;
  return Array.from({ length: rows }, (_, r) => softmax(alpha.values.slice(r * shape.ops.length, (r + 1) * shape.ops.length)));
}

/** The cell α decodes to, for a snapshot that carries none (a search run without a decoder). */
function cellFromAlpha(event: ArchEvent, shape: SearchShape): Block[] | null {
  const alpha = event.parameters.alpha;
  if (!alpha || alpha.values.length !== cellEdges(shape.blocks).length * shape.ops.length) return null;
  try {
    return decodeCell(Float64Array.from(alpha.values), { ops: shape.ops, blocks: shape.blocks });
  } catch {
    return null;
  }
}

function normalisedBeta(event: ArchEvent, shape: SearchShape): number[] | null {
  const beta = event.parameters.beta;
  if (!beta) return null;
  try {
    return normalizeBeta(beta.values, { layers: shape.layers, scales: shape.scales });
  } catch {
    // A β of another shape than the config says (or a non-finite one): drawn without it.
    return null;
  }
}

async function epochArchitecture(runDir: string, event: ArchEvent, shape: SearchShape): Promise<EpochArchitecture | null> {
  const genotype = await genotypeOf(runDir, event);
  const beta = normalisedBeta(event, shape);
  const decoded = genotype
    ? null
    : beta && event.parameters.beta
      ? viterbi(event.parameters.beta.values, { layers: shape.layers, scales: shape.scales })
      : null;
  const path = genotype?.path ?? decoded?.path;
  if (!path || path.length !== shape.layers) return null;
  return {
    epoch: event.epoch + 1,
    path,
    pathProbability: genotype?.pathProbability ?? decoded?.probability ?? null,
    cell: genotype?.cell ?? cellFromAlpha(event, shape),
    decodeError: genotype ? null : (event.decodeError ?? null),
    beta,
    alpha: alphaRows(event, shape),
  };
}

/** The architecture after each epoch of a search, from its arch events (and genotype files). */
export async function architectureData(runDir: string, events: ArchEvent[], config: Record<string, unknown> | null): Promise<ArchitectureData | null> {
  const firstGenotype = GenotypeSchema.safeParse(events[0]?.genotype);
  const shape = searchShapeOf(config, firstGenotype.success ? firstGenotype.data : null);
  if (!shape) return null;
  const epochs = (await Promise.all(events.map((event) => epochArchitecture(runDir, event, shape)))).filter((e): e is EpochArchitecture => e !== null);
  return { shape, epochs };
}
