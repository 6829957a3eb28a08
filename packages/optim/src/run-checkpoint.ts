import * as tf from '@tensorflow/tfjs';
import { cp, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import {
  FileFormatError,
  disposeCheckpoint,
  loadCheckpoint,
  parseWithSchema,
  readCheckpointManifest,
  saveCheckpoint,
  type Checkpoint,
  type RngState,
} from '@autodeeplab/core';
import type { Optimizer } from './optimizers.js';
import {
  BEST_CHECKPOINT_DIR,
  CHECKPOINT_DIR,
  HISTORY_DIR,
  MODEL_PREFIX,
  OPTIMIZER_PREFIX,
  historyCheckpointName,
  historyCheckpointStep,
  isHistoryCheckpointName,
} from './run-dir.js';
import type { TrainableModel } from './types.js';

export const RUN_STATE_FORMAT = 'autodeeplab-run-state';
export const RUN_STATE_VERSION = 1;

const uint32 = z.number().int().min(0).max(0xffffffff);

/** Everything a run needs besides tensors to continue exactly where it stopped. */
export const RunStateSchema = z.object({
  format: z.literal(RUN_STATE_FORMAT),
  version: z.literal(RUN_STATE_VERSION),
  kind: z.enum(['search', 'train']),
  /** Updates completed (= the schedule position). */
  step: z.number().int().nonnegative(),
  /** Where the next update reads its batch: epoch (0-based) and batch index in that epoch's order. */
  next: z.object({ epoch: z.number().int().nonnegative(), index: z.number().int().nonnegative() }),
  stepsPerEpoch: z.number().int().positive(),
  totalSteps: z.number().int().positive(),
  rng: z.tuple([uint32, uint32, uint32, uint32]),
  config: z.record(z.string(), z.unknown()),
  /** Best validation so far, if any. */
  best: z.object({ mIoU: z.number(), epoch: z.number().int(), step: z.number().int() }).optional(),
  /** The last validation, for the done event of a run resumed after its final checkpoint. */
  lastValidation: z.object({ mIoU: z.number(), pixelAccuracy: z.number() }).optional(),
  /** Loss sums of the steps of the epoch `next` is in that came before it, for that epoch's mean losses. */
  epochStats: z
    .object({ lossSum: z.number(), archLossSum: z.number(), steps: z.number().int().nonnegative(), archSteps: z.number().int().nonnegative() })
    .optional(),
  createdAt: z.string(),
});
export type RunState = z.infer<typeof RunStateSchema>;

/** Raised instead of writing a checkpoint that holds NaN or infinite values. */
export class NonFiniteStateError extends Error {
  override readonly name = 'NonFiniteStateError';
}

function stateTensors(model: TrainableModel, optimizers: Readonly<Record<string, Optimizer>>): Map<string, tf.Tensor> {
  const tensors = new Map<string, tf.Tensor>();
  for (const [path, v] of model.stateDict()) tensors.set(MODEL_PREFIX + path, v);
  for (const [key, optimizer] of Object.entries(optimizers)) {
    for (const [name, t] of optimizer.state()) tensors.set(`${OPTIMIZER_PREFIX}${key}/${name}`, t);
  }
  return tensors;
}

/** Names of the float tensors that hold a NaN or an infinity. */
export async function nonFiniteTensors(tensors: ReadonlyMap<string, tf.Tensor>): Promise<string[]> {
  const names = [...tensors.keys()].filter((n) => tensors.get(n)!.dtype === 'float32');
  if (names.length === 0) return [];
  const flags = tf.tidy(() => tf.stack(names.map((n) => tf.any(tf.logicalNot(tf.isFinite(tensors.get(n)!))))));
  const values = await flags.data();
  flags.dispose();
  return names.filter((_, i) => values[i] !== 0);
}

export interface SaveRunCheckpointOptions {
  /** Copies kept in `checkpoints/step-<n>/` (1 = none: only the latest). Default 1. */
  keepLast?: number;
  /** Also write it to `checkpoint-best/` (its state's `best` is this checkpoint's validation). */
  best?: boolean;
}

/**
 * Writes the model (parameters, α/β, BN statistics), the optimisers' state and the run state into
 * `<runDir>/checkpoint/` (replaced atomically by core's saveCheckpoint). Refuses to write non-finite
 * values, so the last good checkpoint stays. With `keepLast` > 1 a copy also goes to
 * `<runDir>/checkpoints/step-<n>/`, keeping the newest `keepLast`; with `best`, the same checkpoint
 * also replaces `<runDir>/checkpoint-best/` (atomically too), before the latest: a kill between the
 * two leaves the older latest, whose resume validates again and rewrites the best.
 */
export async function saveRunCheckpoint(
  runDir: string,
  model: TrainableModel,
  optimizers: Readonly<Record<string, Optimizer>>,
  state: RunState,
  options: SaveRunCheckpointOptions = {},
): Promise<string> {
  const tensors = stateTensors(model, optimizers);
  const bad = await nonFiniteTensors(tensors);
  if (bad.length > 0) {
    throw new NonFiniteStateError(
      `not writing a checkpoint at step ${state.step}: ` +
        `non-finite values in ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ` (and ${bad.length - 5} more)` : ''}`,
    );
  }
  const metadata = parseWithSchema(RunStateSchema, state, 'run state');
  if (options.best) await saveCheckpoint(join(runDir, BEST_CHECKPOINT_DIR), tensors, metadata);
  const dir = join(runDir, CHECKPOINT_DIR);
  await saveCheckpoint(dir, tensors, metadata);
  const keepLast = options.keepLast ?? 1;
  if (keepLast > 1) await keepHistory(runDir, dir, state.step, keepLast);
  return dir;
}

async function keepHistory(runDir: string, latest: string, step: number, keepLast: number): Promise<void> {
  const historyDir = join(runDir, HISTORY_DIR);
  await mkdir(historyDir, { recursive: true });
  const name = historyCheckpointName(step);
  const temp = join(historyDir, `.${name}.tmp`);
  await rm(temp, { recursive: true, force: true });
  await cp(latest, temp, { recursive: true });
  await rm(join(historyDir, name), { recursive: true, force: true });
  await rename(temp, join(historyDir, name));
  // Copies past this step (refused by a resume that fell back to an older one) neither count nor go:
  // the run replaces each when it gets there again.
  const kept = (await readdir(historyDir)).filter((n) => isHistoryCheckpointName(n) && historyCheckpointStep(n) <= step).sort();
  for (const old of kept.slice(0, Math.max(0, kept.length - keepLast))) await rm(join(historyDir, old), { recursive: true, force: true });
}

/** A run checkpoint read and checked (size, checksum, run state) but not yet loaded into a model. */
export interface RunCheckpoint {
  dir: string;
  state: RunState;
  checkpoint: Checkpoint;
}

/**
 * Reads a run checkpoint and checks its files: what fails here is a damaged checkpoint (a truncated
 * or corrupt file, a run state that does not parse), not a mismatch with the model. The caller owns
 * the tensors (`applyRunCheckpoint` or `disposeCheckpoint(read.checkpoint)`).
 */
export async function readRunCheckpoint(dir: string): Promise<RunCheckpoint> {
  const checkpoint = await loadCheckpoint(dir);
  try {
    const state = parseWithSchema(RunStateSchema, checkpoint.metadata, `${join(dir, 'model.json')} (metadata)`);
    return { dir, state, checkpoint };
  } catch (error) {
    disposeCheckpoint(checkpoint);
    throw error;
  }
}

/**
 * Loads a run checkpoint into `model` and `optimizers` and returns the run state. Every tensor must
 * be present with the right shape; errors name the checkpoint and the tensor.
 */
export async function loadRunCheckpoint(dir: string, model: TrainableModel, optimizers: Readonly<Record<string, Optimizer>>): Promise<RunState> {
  return applyRunCheckpoint(await readRunCheckpoint(dir), model, optimizers);
}

/** Loads a checkpoint read by `readRunCheckpoint` into `model` and `optimizers` (and disposes its tensors). */
export function applyRunCheckpoint(read: RunCheckpoint, model: TrainableModel, optimizers: Readonly<Record<string, Optimizer>>): RunState {
  const { checkpoint, state } = read;
  const source = join(read.dir, 'model.json');
  try {
    const modelState = new Map<string, tf.Tensor>();
    const optimizerStates = new Map<string, Map<string, tf.Tensor>>(Object.keys(optimizers).map((k) => [k, new Map()]));
    for (const [name, tensor] of checkpoint.tensors) {
      if (name.startsWith(MODEL_PREFIX)) {
        modelState.set(name.slice(MODEL_PREFIX.length), tensor);
        continue;
      }
      const match = name.startsWith(OPTIMIZER_PREFIX) ? /^([^/]+)\/(.+)$/.exec(name.slice(OPTIMIZER_PREFIX.length)) : null;
      const target = match ? optimizerStates.get(match[1]!) : undefined;
      if (!target) throw new FileFormatError(source, `unexpected tensor '${name}'`);
      target.set(match![2]!, tensor);
    }
    model.loadStateDict(modelState, { strict: true, source: `${source} (model)` });
    for (const [key, optimizer] of Object.entries(optimizers)) {
      optimizer.loadState(optimizerStates.get(key)!, `${source} (optimizer '${key}')`);
    }
    return state;
  } finally {
    disposeCheckpoint(checkpoint);
  }
}

/** Reads only the run state of a checkpoint (e.g. for `autodeeplab` to show where a run stands). */
export async function readRunState(dir: string): Promise<RunState> {
  const manifest = await readCheckpointManifest(dir);
  return parseWithSchema(RunStateSchema, manifest.metadata, `${join(dir, 'model.json')} (metadata)`);
}

export type { RngState };
