import { join, relative, resolve } from 'node:path';
import { UserInputError, disposeCheckpoint, isCheckpoint, isUserInputError } from '@autodeeplab/core';
import type { EpochStats, LoopSpec } from './loop-spec.js';
import { applyRunCheckpoint, readRunCheckpoint, type RunCheckpoint, type RunState } from './run-checkpoint.js';
import { CHECKPOINT_DIR, metricsPath, resolveCheckpointDir, resumeCandidates } from './run-dir.js';
import { rewindMetricsLog } from './run-tidy.js';

/** A checkpoint that a resume passed over, and why. */
export interface RefusedCheckpoint {
  checkpoint: string;
  reason: string;
}

/** Where a resumed run continues: the checkpoint's position, best and last validation, and directory. */
export interface ResumePoint {
  next: { epoch: number; index: number };
  step: number;
  best: RunState['best'];
  lastValidation: RunState['lastValidation'];
  /** Loss sums of the steps of epoch `next.epoch` before `next.index`. */
  epochStats: EpochStats | undefined;
  checkpoint: string;
  /** Newer checkpoints that could not be read, newest first (the resume fell back past them). */
  refused: RefusedCheckpoint[];
  /** Lines of metrics.jsonl past the checkpoint's step, cut so that the resumed run logs each step once. */
  metricsLinesDropped: number;
}

// `workers` changes how a step is computed, not what it computes (up to BN's per-part statistics).
const ALWAYS_MUTABLE = ['checkpointEvery', 'keepLast', 'keepBest', 'validateEvery', 'workers'];

function assertResumableConfig(saved: Record<string, unknown>, current: Record<string, unknown>, mutable: readonly string[], source: string): void {
  const keys = new Set([...Object.keys(saved), ...Object.keys(current)]);
  for (const key of keys) {
    if (mutable.includes(key) || ALWAYS_MUTABLE.includes(key)) continue;
    const a = JSON.stringify(saved[key]);
    const b = JSON.stringify(current[key]);
    if (a !== b) {
      throw new UserInputError(
        `cannot resume from ${source}: setting '${key}' is ${b ?? 'unset'} now but was ${a ?? 'unset'} when the run started; ` +
          'use the same settings to continue it exactly',
      );
    }
  }
}

/** A damaged file (FileFormatError) or one the system would not read: a reason to try an older checkpoint. */
function isUnreadable(error: unknown): error is Error {
  return isUserInputError(error) || (error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string');
}

/**
 * The newest readable checkpoint of `candidates` (newest first) and the ones passed over. When none
 * is readable: the only candidate's own error, or one naming every candidate and its problem.
 */
async function readNewestValid(candidates: readonly string[], where: string): Promise<{ read: RunCheckpoint; refused: RefusedCheckpoint[] }> {
  const refused: RefusedCheckpoint[] = [];
  for (const dir of candidates) {
    try {
      return { read: await readRunCheckpoint(dir), refused };
    } catch (error) {
      if (!isUnreadable(error) || candidates.length === 1) throw error;
      refused.push({ checkpoint: dir, reason: error.message });
    }
  }
  throw new UserInputError(`cannot resume from ${where}: no checkpoint there is readable (${refused.map((r) => r.reason).join('; ')})`);
}

/**
 * The checkpoints a resume from `where` may use, newest first: a checkpoint directory named
 * directly is used alone; a run directory offers its latest checkpoint, then its step copies.
 */
async function candidatesOf(where: string): Promise<string[]> {
  if (await isCheckpoint(where)) return [where];
  return resumeCandidates(where);
}

/**
 * Restores model, optimisers and random stream from the checkpoint `spec.resume` names, after
 * checking that it belongs to this kind of run, this data and these settings; a run directory whose
 * latest checkpoint is damaged resumes from its newest readable step copy instead (`refused` says
 * which were passed over and why). Cuts metrics.jsonl back to the checkpoint's step. Without
 * `resume`, refuses to start over an earlier run's checkpoint unless `overwrite`; returns undefined.
 */
export async function resumeRun<A>(spec: LoopSpec<A>): Promise<ResumePoint | undefined> {
  const { kind, runDir, stepsPerEpoch } = spec;
  if (spec.resume === false) {
    if (!spec.overwrite && (await resolveCheckpointDir(runDir)) === join(runDir, CHECKPOINT_DIR)) {
      throw new UserInputError(`${runDir} already holds a checkpoint of an earlier run; resume it, or choose another run directory (or allow overwriting)`);
    }
    return undefined;
  }
  const where = spec.resume === true ? runDir : spec.resume;
  const candidates = await candidatesOf(where);
  if (candidates.length === 0) throw new UserInputError(`cannot resume: no checkpoint in ${where} (expected ${join(where, CHECKPOINT_DIR, 'model.json')})`);
  const { read, refused } = await readNewestValid(candidates, where);
  const { dir, state } = read;
  try {
    if (state.kind !== kind) throw new UserInputError(`cannot resume a ${kind} run from ${dir}: it is a ${state.kind} checkpoint`);
    if (state.stepsPerEpoch !== stepsPerEpoch) {
      throw new UserInputError(
        `cannot resume from ${dir}: the data now gives ${stepsPerEpoch} steps per epoch, ` +
          `the run had ${state.stepsPerEpoch} (dataset, split or batch size changed)`,
      );
    }
    assertResumableConfig(state.config, spec.config, spec.mutableKeys, dir);
  } catch (error) {
    disposeCheckpoint(read.checkpoint);
    throw error;
  }
  applyRunCheckpoint(read, spec.model, spec.optimizers);
  spec.rng.setState(state.rng);
  // Only this run's own log is rewound: a checkpoint of another run directory says nothing about it.
  const ownCheckpoint = !relative(resolve(runDir), resolve(dir)).startsWith('..');
  const metricsLinesDropped = spec.metricsLog && ownCheckpoint ? await rewindMetricsLog(metricsPath(runDir), state.step) : 0;
  return {
    next: state.next,
    step: state.step,
    best: state.best,
    lastValidation: state.lastValidation,
    epochStats: state.next.index > 0 ? state.epochStats : undefined,
    checkpoint: dir,
    refused,
    metricsLinesDropped,
  };
}
