import { UserInputError, type Rng } from '@autodeeplab/core';
import { now, type CheckpointEvent, type DoneEvent, type RunEvent, type RunKind } from './events.js';
import { StepTimer } from './loop-support.js';
import type { Optimizer } from './optimizers.js';
import { CHECKPOINT_DIR, loadRunCheckpoint, resolveCheckpointDir, saveRunCheckpoint, type RunState } from './run-checkpoint.js';
import type { TrainableModel } from './types.js';
import { join } from 'node:path';

/** What one step reports back to the loop. */
export interface StepOutcome {
  loss: number;
  archLoss?: number;
  learningRate: { weights: number; arch?: number };
  gradNorm: { weights: number; arch?: number };
  images: number;
}

export interface EpochStats {
  lossSum: number;
  archLossSum: number;
  steps: number;
  archSteps: number;
}

/** The parts that differ between the search and the training loop. */
export interface LoopSpec {
  kind: RunKind;
  model: TrainableModel;
  runDir: string;
  /** true: continue from `<runDir>/checkpoint`; a string: from that checkpoint (or run) directory. */
  resume: boolean | string;
  /** Start afresh even when `<runDir>` already holds a checkpoint (it is replaced at the first save). */
  overwrite: boolean;
  signal: AbortSignal | undefined;
  /** Parsed configuration, stored in checkpoints and compared on resume. */
  config: Record<string, unknown>;
  /** Config keys that may change between the interrupted and the resumed run. */
  mutableKeys: readonly string[];
  epochs: number;
  stepsPerEpoch: number;
  totalSteps: number;
  optimizers: Readonly<Record<string, Optimizer>>;
  rng: Rng;
  checkpointEvery: number;
  keepLast: number;
  /** Runs once after the start event, before the first step (e.g. starting gradient workers); failures end the run with an error event. */
  prepare?(): Promise<void>;
  /** Prepares the batch readers of an epoch, starting at batch `start`. */
  openEpoch(epoch: number, start: number): void;
  closeEpoch(): Promise<void>;
  /** One update (or a weight and an architecture update) at global step `step` (updates done so far). */
  step(position: { epoch: number; index: number; step: number }): Promise<StepOutcome>;
  /** Events at the end of an epoch (validation, α/β snapshots); may report a validation mIoU. */
  endOfEpoch(epoch: number, step: number, report: (mIoU: number) => void): AsyncIterable<RunEvent>;
  /** Extra fields for the done event. */
  finish(): Promise<Partial<DoneEvent>>;
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
        `cannot resume from ${source}: setting '${key}' is ${b ?? 'unset'} now but was ${a ?? 'unset'} when the run started; use the same settings to continue it exactly`,
      );
    }
  }
}

/**
 * The shared skeleton: resume, the epoch/step iteration, timing and ETA, checkpoints every N steps
 * and at each epoch end, abort, and a non-finite loss stopping the run without touching the last
 * good checkpoint.
 */
export async function* runLoop(spec: LoopSpec): AsyncGenerator<RunEvent, void, undefined> {
  const { kind, model, runDir, stepsPerEpoch: S, totalSteps, epochs } = spec;
  const startTime = performance.now();
  let epoch = 0;
  let index = 0;
  let step = 0;
  let best: RunState['best'];
  let lastCheckpoint: string | undefined;
  let resumedFrom: { epoch: number; step: number; checkpoint: string } | undefined;

  if (spec.resume !== false) {
    const where = spec.resume === true ? runDir : spec.resume;
    const dir = await resolveCheckpointDir(where);
    if (!dir) throw new UserInputError(`cannot resume: no checkpoint in ${where} (expected ${join(where, CHECKPOINT_DIR, 'model.json')})`);
    const state = await loadRunCheckpoint(dir, model, spec.optimizers);
    if (state.kind !== kind) throw new UserInputError(`cannot resume a ${kind} run from ${dir}: it is a ${state.kind} checkpoint`);
    if (state.stepsPerEpoch !== S) {
      throw new UserInputError(`cannot resume from ${dir}: the data now gives ${S} steps per epoch, the run had ${state.stepsPerEpoch} (dataset, split or batch size changed)`);
    }
    assertResumableConfig(state.config, spec.config, spec.mutableKeys, dir);
    spec.rng.setState(state.rng);
    ({ epoch, index } = state.next);
    step = state.step;
    best = state.best;
    lastCheckpoint = dir;
    resumedFrom = { epoch, step, checkpoint: dir };
  } else if (!spec.overwrite && (await resolveCheckpointDir(runDir)) === join(runDir, CHECKPOINT_DIR)) {
    throw new UserInputError(`${runDir} already holds a checkpoint of an earlier run; resume it, or choose another run directory (or allow overwriting)`);
  }

  const checkpoint = async (reason: CheckpointEvent['reason'], next: { epoch: number; index: number }): Promise<CheckpointEvent> => {
    const state: RunState = {
      format: 'autodeeplab-run-state',
      version: 1,
      kind,
      step,
      next: next.index >= S ? { epoch: next.epoch + 1, index: 0 } : next,
      stepsPerEpoch: S,
      totalSteps,
      rng: spec.rng.getState(),
      config: spec.config,
      ...(best ? { best } : {}),
      createdAt: now(),
    };
    lastCheckpoint = await saveRunCheckpoint(runDir, model, spec.optimizers, state, spec.keepLast);
    return { type: 'checkpoint', time: now(), kind, epoch, step, path: lastCheckpoint, reason };
  };

  const fail = (error: unknown) => ({
    type: 'error' as const,
    time: now(),
    kind,
    epoch,
    step,
    message: error instanceof Error ? error.message : String(error),
    ...(lastCheckpoint ? { checkpoint: lastCheckpoint } : {}),
  });

  let validation: { mIoU: number; pixelAccuracy: number } | undefined;
  try {
    yield { type: 'start', time: now(), kind, runDir, epochs, stepsPerEpoch: S, totalSteps, config: spec.config, ...(resumedFrom ? { resumedFrom } : {}) };
    model.train();
    await spec.prepare?.();
    const timer = new StepTimer();
    for (; epoch < epochs && step < totalSteps; epoch++, index = 0) {
      const epochStart = performance.now();
      const stats: EpochStats = { lossSum: 0, archLossSum: 0, steps: 0, archSteps: 0 };
      spec.openEpoch(epoch, index);
      try {
        for (; index < S && step < totalSteps; index++) {
          if (spec.signal?.aborted) {
            yield await checkpoint('interrupt', { epoch, index });
            yield { type: 'done', time: now(), kind, epoch, step, interrupted: true, seconds: (performance.now() - startTime) / 1000 };
            return;
          }
          const outcome = await spec.step({ epoch, index, step });
          step++;
          stats.lossSum += outcome.loss;
          stats.steps++;
          if (outcome.archLoss !== undefined) {
            stats.archLossSum += outcome.archLoss;
            stats.archSteps++;
          }
          const secondsPerStep = timer.tick();
          yield {
            type: 'step',
            time: now(),
            kind,
            epoch,
            step,
            stepInEpoch: index,
            totalSteps,
            loss: outcome.loss,
            ...(outcome.archLoss !== undefined ? { archLoss: outcome.archLoss } : {}),
            learningRate: outcome.learningRate,
            gradNorm: outcome.gradNorm,
            imagesPerSecond: outcome.images / secondsPerStep,
            secondsPerStep,
            etaSeconds: secondsPerStep * (totalSteps - step),
          };
          const lastOfEpoch = index + 1 >= S || step >= totalSteps;
          if (spec.checkpointEvery > 0 && step % spec.checkpointEvery === 0 && !lastOfEpoch) {
            yield await checkpoint('interval', { epoch, index: index + 1 });
            timer.restart();
          }
        }
      } finally {
        await spec.closeEpoch();
      }
      yield {
        type: 'epoch',
        time: now(),
        kind,
        epoch,
        step,
        meanLoss: stats.steps > 0 ? stats.lossSum / stats.steps : Number.NaN,
        ...(stats.archSteps > 0 ? { meanArchLoss: stats.archLossSum / stats.archSteps } : {}),
        seconds: (performance.now() - epochStart) / 1000,
      };
      for await (const event of spec.endOfEpoch(epoch, step, (mIoU) => {
        if (!best || mIoU > best.mIoU) best = { mIoU, epoch, step };
      })) {
        if (event.type === 'validation') validation = { mIoU: event.mIoU, pixelAccuracy: event.pixelAccuracy };
        yield event;
      }
      const finished = epoch + 1 >= epochs || step >= totalSteps;
      yield await checkpoint(finished ? 'final' : 'epoch', { epoch: epoch + 1, index: 0 });
      timer.restart();
    }
    yield {
      type: 'done',
      time: now(),
      kind,
      epoch: Math.max(0, epoch - 1),
      step,
      interrupted: false,
      seconds: (performance.now() - startTime) / 1000,
      ...(validation ? { validation } : {}),
      ...(await spec.finish()),
    };
  } catch (error) {
    // A NonFiniteLossError arrives before its update is applied, and checkpoints refuse non-finite
    // values: the checkpoint on disk is the last good one either way.
    yield fail(error);
    throw error;
  }
}
