import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileFormatError } from '@autodeeplab/core';
import { RUN_CONFIG_FILE, readSearchArchitecture } from '@autodeeplab/optim';
import { parse as parseYaml } from 'yaml';

/** The search-space fields decoding needs. */
export interface ArchitectureConfig {
  layers: number;
  blocks: number;
  scales: number[];
  ops: string[];
  [key: string]: unknown;
}

export interface SavedArchitecture {
  /** α logits [edges, ops]. */
  alpha: number[][];
  /** β logits, flat per TrellisTopology. */
  beta: number[];
  config: ArchitectureConfig;
  checkpointDir: string;
  /** The run directory the checkpoint belongs to (its parent for `<run>/checkpoint`). */
  runDir: string;
  epoch?: number;
  step?: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Finds a search-space config (layers, blocks, ops) in checkpoint metadata or a run config. */
function findSearchSpace(value: unknown): Record<string, unknown> | undefined {
  if (!isRecord(value)) return undefined;
  for (const key of ['searchSpace', 'supernet']) {
    const inner = value[key];
    if (isRecord(inner) && 'ops' in inner && 'layers' in inner) return inner;
  }
  if ('ops' in value && 'layers' in value) return value;
  if (isRecord(value.config)) return findSearchSpace(value.config);
  return undefined;
}

function asConfig(raw: Record<string, unknown>, source: string): ArchitectureConfig {
  const layers = raw.layers;
  const ops = raw.ops;
  const blocks = raw.blocks ?? 5;
  const scales = raw.scales ?? [4, 8, 16, 32];
  if (typeof layers !== 'number' || typeof blocks !== 'number' || !Array.isArray(ops) || !Array.isArray(scales)) {
    throw new FileFormatError(source, 'the search-space config needs layers (number), blocks (number), ops (list) and scales (list)');
  }
  return { ...raw, layers, blocks, ops: ops.map(String), scales: scales.map(Number) };
}

async function readRunConfig(runDir: string): Promise<unknown> {
  try {
    return parseYaml(await readFile(join(runDir, RUN_CONFIG_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * α and β of a search run or checkpoint (read by optim, which wrote them) with the search-space
 * config they belong to: from the checkpoint's metadata, else from the run's config file.
 */
export async function readSavedArchitecture(path: string): Promise<SavedArchitecture> {
  const { alpha, beta, checkpointDir, runDir, metadata, epoch, step } = await readSearchArchitecture(path);
  const source = join(checkpointDir, 'model.json');
  const fromMetadata = findSearchSpace(metadata);
  const raw = fromMetadata ?? findSearchSpace(await readRunConfig(runDir));
  if (!raw) throw new FileFormatError(source, `no search-space config in the checkpoint metadata nor in ${join(runDir, RUN_CONFIG_FILE)}`);
  const config = asConfig(raw, fromMetadata ? source : join(runDir, RUN_CONFIG_FILE));
  const columns = alpha[0]?.length ?? 0;
  if (columns !== config.ops.length) throw new FileFormatError(source, `α has ${columns} columns but the config lists ${config.ops.length} ops`);
  return { alpha, beta, config, checkpointDir, runDir, ...(epoch !== undefined ? { epoch } : {}), ...(step !== undefined ? { step } : {}) };
}
