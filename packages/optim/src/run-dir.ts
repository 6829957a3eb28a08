/**
 * The layout of a run directory, in one place: what the loops write (checkpoints, metrics) and what
 * the command line composes around them (config, genotypes, plots, the trained network). Everything
 * that names a file of a run, or reads one back, takes its names from here.
 *
 * ```
 * <run>/config.yaml                   the resolved run config (written by the command line)
 * <run>/checkpoint/                   the latest checkpoint: model/…, optimizer/<key>/…, run state
 * <run>/checkpoints/step-<n>/         copies of the newest checkpoints (keepLast > 1), resume's fallbacks
 * <run>/checkpoint-best/              the checkpoint of the best validation mIoU (keepBest)
 * <run>/metrics.jsonl                 one event per line
 * <run>/genotype.json                 the latest genotype of a search
 * <run>/genotypes/epoch-NNN.json      the genotype after each epoch of a search
 * <run>/plots/, <run>/decoded/        drawings of a search's architecture
 * <run>/network/                      a trained network
 * ```
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FileFormatError, UserInputError, disposeCheckpoint, isCheckpoint, loadCheckpoint } from '@autodeeplab/core';

/** The latest checkpoint of a run. */
export const CHECKPOINT_DIR = 'checkpoint';
/** Step-stamped copies of the newest checkpoints (`keepLast` > 1). */
export const HISTORY_DIR = 'checkpoints';
/** The checkpoint of the best validation mIoU so far (`keepBest`); its run state's `best` is its own. */
export const BEST_CHECKPOINT_DIR = 'checkpoint-best';
export const METRICS_FILE = 'metrics.jsonl';
/** Held by the one process writing the run (see run-lock.ts). */
export const LOCK_FILE = '.lock';
export const RUN_CONFIG_FILE = 'config.yaml';
export const GENOTYPE_FILE = 'genotype.json';
export const GENOTYPES_DIR = 'genotypes';
export const PLOTS_DIR = 'plots';
export const DECODED_DIR = 'decoded';
/** A trained network (saved by `@autodeeplab/model`'s `saveNetwork`). */
export const NETWORK_DIR = 'network';

/** Prefixes of the tensors in a run checkpoint: the model's state dict and each optimiser's state. */
export const MODEL_PREFIX = 'model/';
export const OPTIMIZER_PREFIX = 'optimizer/';
/**
 * α and β in a search checkpoint: the supernet's state-dict paths `alpha` and `beta` under the model
 * prefix (bare names are accepted too, for checkpoints of the model alone).
 */
export const ARCH_TENSORS = { alpha: [`${MODEL_PREFIX}alpha`, 'alpha'], beta: [`${MODEL_PREFIX}beta`, 'beta'] } as const;

/** `epoch-001.json` for the genotype after epoch 1 (1-based, as the command line reports epochs). */
export function epochGenotypeFile(epoch: number): string {
  return `epoch-${String(epoch).padStart(3, '0')}.json`;
}

/** `step-000000200` for the checkpoint kept after 200 steps. */
export function historyCheckpointName(step: number): string {
  return `step-${String(step).padStart(9, '0')}`;
}

export function isHistoryCheckpointName(name: string): boolean {
  return /^step-\d+$/.test(name);
}

/** The step of a `step-<n>` name. */
export function historyCheckpointStep(name: string): number {
  return Number(name.slice('step-'.length));
}

/**
 * The checkpoints a resume of `runDir` may use, newest first: the latest (when its directory exists,
 * readable or not), then the step-stamped copies from the highest step down.
 */
export async function resumeCandidates(runDir: string): Promise<string[]> {
  const entries = await readdir(runDir, { withFileTypes: true }).catch(() => []);
  const latest = entries.some((e) => e.isDirectory() && e.name === CHECKPOINT_DIR) ? [join(runDir, CHECKPOINT_DIR)] : [];
  const history = (await readdir(join(runDir, HISTORY_DIR)).catch(() => [] as string[])).filter(isHistoryCheckpointName);
  history.sort((a, b) => historyCheckpointStep(b) - historyCheckpointStep(a));
  return [...latest, ...history.map((name) => join(runDir, HISTORY_DIR, name))];
}

export function metricsPath(runDir: string): string {
  return join(runDir, METRICS_FILE);
}

/** The checkpoint directory of a run, or `path` itself when it is a checkpoint. */
export async function resolveCheckpointDir(path: string): Promise<string | undefined> {
  if (await isCheckpoint(path)) return path;
  const inside = join(path, CHECKPOINT_DIR);
  if (await isCheckpoint(inside)) return inside;
  return undefined;
}

/**
 * A checkpoint and the run directory it belongs to, from either: `<run>`, `<run>/checkpoint`,
 * `<run>/checkpoint-best` or `<run>/checkpoints/step-N` (any other checkpoint directory is its own
 * run directory's child).
 */
export async function locateCheckpoint(path: string): Promise<{ checkpointDir: string; runDir: string }> {
  const full = resolve(path);
  const checkpointDir = await resolveCheckpointDir(full);
  if (checkpointDir === join(full, CHECKPOINT_DIR)) return { checkpointDir, runDir: full };
  if (checkpointDir) {
    const parent = dirname(full);
    const inRun = basename(full) === CHECKPOINT_DIR || basename(full) === BEST_CHECKPOINT_DIR;
    return { checkpointDir, runDir: inRun ? parent : basename(parent) === HISTORY_DIR ? dirname(parent) : parent };
  }
  throw new UserInputError(`${path}: no checkpoint here (expected a run directory with ${CHECKPOINT_DIR}/model.json, or a checkpoint directory)`);
}

/** α and β of a search checkpoint, with where they came from and the position of the run. */
export interface SearchArchitecture {
  /** α logits [edges, ops]. */
  alpha: number[][];
  /** β logits, flat in the trellis order of the search space. */
  beta: number[];
  checkpointDir: string;
  /** The run directory the checkpoint belongs to. */
  runDir: string;
  /** The checkpoint's metadata as stored (a run state for checkpoints written by the loops). */
  metadata: unknown;
  /** The epoch the run would continue with, and the updates done. */
  epoch?: number;
  step?: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads α and β from a search run directory or one of its checkpoints. */
export async function readSearchArchitecture(path: string): Promise<SearchArchitecture> {
  const { checkpointDir, runDir } = await locateCheckpoint(path);
  const checkpoint = await loadCheckpoint(checkpointDir);
  const source = join(checkpointDir, 'model.json');
  try {
    const find = (names: readonly string[]) => names.map((n) => checkpoint.tensors.get(n)).find((t) => t !== undefined);
    const alpha = find(ARCH_TENSORS.alpha);
    const beta = find(ARCH_TENSORS.beta);
    if (!alpha || !beta) {
      throw new FileFormatError(source, `holds no architecture parameters (${ARCH_TENSORS.alpha[0]}, ${ARCH_TENSORS.beta[0]}): is it a search checkpoint?`);
    }
    if (alpha.rank !== 2 || beta.rank !== 1) {
      throw new FileFormatError(source, `α must be 2-D and β 1-D; found shapes [${alpha.shape}] and [${beta.shape}]`);
    }
    const metadata = checkpoint.metadata;
    const meta = isRecord(metadata) ? metadata : {};
    const step = typeof meta.step === 'number' ? meta.step : undefined;
    const next = isRecord(meta.next) ? meta.next : undefined;
    const epoch = typeof next?.epoch === 'number' ? next.epoch : undefined;
    return {
      alpha: (await alpha.array()) as number[][],
      beta: (await beta.array()) as number[],
      checkpointDir,
      runDir,
      metadata,
      ...(epoch !== undefined ? { epoch } : {}),
      ...(step !== undefined ? { step } : {}),
    };
  } finally {
    disposeCheckpoint(checkpoint);
  }
}
