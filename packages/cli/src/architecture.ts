import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FileFormatError, UserInputError, disposeCheckpoint, isCheckpoint, loadCheckpoint } from '@autodeeplab/core';
import { parse as parseYaml } from 'yaml';
import { CHECKPOINT_DIR, RUN_CONFIG_FILE } from './run-files.js';

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

async function resolveCheckpoint(path: string): Promise<{ checkpointDir: string; runDir: string }> {
  const full = resolve(path);
  if (await isCheckpoint(full)) {
    // <run>/checkpoint → <run>; <run>/checkpoints/step-N → <run>.
    const parent = dirname(full);
    const runDir = basename(full) === CHECKPOINT_DIR ? parent : basename(parent) === 'checkpoints' ? dirname(parent) : parent;
    return { checkpointDir: full, runDir };
  }
  if (await isCheckpoint(join(full, CHECKPOINT_DIR))) return { checkpointDir: join(full, CHECKPOINT_DIR), runDir: full };
  throw new UserInputError(`${path}: no checkpoint here (expected a run directory with ${CHECKPOINT_DIR}/model.json, or a checkpoint directory)`);
}

async function readRunConfig(runDir: string): Promise<unknown> {
  try {
    return parseYaml(await readFile(join(runDir, RUN_CONFIG_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Reads α, β and the search-space config of a search run or checkpoint. */
export async function readSavedArchitecture(path: string): Promise<SavedArchitecture> {
  const { checkpointDir, runDir } = await resolveCheckpoint(path);
  const checkpoint = await loadCheckpoint(checkpointDir);
  const source = join(checkpointDir, 'model.json');
  try {
    const find = (names: string[]) => names.map((n) => checkpoint.tensors.get(n)).find((t) => t !== undefined);
    const alpha = find(['model/alpha', 'alpha']);
    const beta = find(['model/beta', 'beta']);
    if (!alpha || !beta) {
      throw new FileFormatError(source, 'holds no architecture parameters (model/alpha, model/beta): is it a search checkpoint?');
    }
    if (alpha.rank !== 2 || beta.rank !== 1) {
      throw new FileFormatError(source, `α must be 2-D and β 1-D; found shapes [${alpha.shape}] and [${beta.shape}]`);
    }
    const metadata = checkpoint.metadata;
    const fromMetadata = findSearchSpace(metadata);
    const raw = fromMetadata ?? findSearchSpace(await readRunConfig(runDir));
    if (!raw) {
      throw new FileFormatError(source, `no search-space config in the checkpoint metadata nor in ${join(runDir, RUN_CONFIG_FILE)}`);
    }
    const config = asConfig(raw, fromMetadata ? source : join(runDir, RUN_CONFIG_FILE));
    if (alpha.shape[1] !== config.ops.length) {
      throw new FileFormatError(source, `α has ${alpha.shape[1]} columns but the config lists ${config.ops.length} ops`);
    }
    const meta = isRecord(metadata) ? metadata : {};
    const step = typeof meta.step === 'number' ? meta.step : undefined;
    const next = isRecord(meta.next) ? meta.next : undefined;
    const epoch = typeof next?.epoch === 'number' ? next.epoch : undefined;
    return {
      alpha: (await alpha.array()) as number[][],
      beta: (await beta.array()) as number[],
      config,
      checkpointDir,
      runDir,
      ...(epoch !== undefined ? { epoch } : {}),
      ...(step !== undefined ? { step } : {}),
    };
  } finally {
    disposeCheckpoint(checkpoint);
  }
}
