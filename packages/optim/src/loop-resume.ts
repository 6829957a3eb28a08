import { join } from 'node:path';
import { UserInputError } from '@autodeeplab/core';
import type { LoopSpec } from './loop-spec.js';
import { loadRunCheckpoint, type RunState } from './run-checkpoint.js';
import { CHECKPOINT_DIR, resolveCheckpointDir } from './run-dir.js';

/** Where a resumed run continues: the checkpoint's position, best validation and directory. */
export interface ResumePoint {
  next: { epoch: number; index: number };
  step: number;
  best: RunState['best'];
  checkpoint: string;
}

// `workers` changes how a step is computed, not what it computes (up to BN's per-part statistics).
const ALWAYS_MUTABLE = ['checkpointEvery', 'keepLast', 'validateEvery', 'workers'];

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

/**
 * Restores model, optimisers and random stream from the checkpoint `spec.resume` names, after
 * checking that it belongs to this kind of run, this data and these settings. Without `resume`,
 * refuses to start over an earlier run's checkpoint unless `overwrite`; returns undefined.
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
  const dir = await resolveCheckpointDir(where);
  if (!dir) throw new UserInputError(`cannot resume: no checkpoint in ${where} (expected ${join(where, CHECKPOINT_DIR, 'model.json')})`);
  const state = await loadRunCheckpoint(dir, spec.model, spec.optimizers);
  if (state.kind !== kind) throw new UserInputError(`cannot resume a ${kind} run from ${dir}: it is a ${state.kind} checkpoint`);
  if (state.stepsPerEpoch !== stepsPerEpoch) {
    throw new UserInputError(
      `cannot resume from ${dir}: the data now gives ${stepsPerEpoch} steps per epoch, ` +
        `the run had ${state.stepsPerEpoch} (dataset, split or batch size changed)`,
    );
  }
  assertResumableConfig(state.config, spec.config, spec.mutableKeys, dir);
  spec.rng.setState(state.rng);
  return { next: state.next, step: state.step, best: state.best, checkpoint: dir };
}
