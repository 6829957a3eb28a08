/**
 * The loop shared by search and training, in three levels as in mmengine's loops: `runLoop` (resume,
 * start, epochs, done), `runEpoch` (its steps, the epoch summary, validation, the epoch checkpoint)
 * and `runStep` (one update, its event, the interval checkpoint). Resuming lives in loop-resume.ts,
 * writing the run's state in loop-state.ts; what differs between search and training comes in the
 * `LoopSpec`.
 */
import { now, type DoneEvent, type RunEvent, type StepEvent } from './events.js';
import { resumeRun, type ResumePoint } from './loop-resume.js';
import type { EpochStats, LoopCursor, LoopSpec, StepOutcome } from './loop-spec.js';
import { RunStateWriter } from './loop-state.js';
import { acquireRunLock } from './run-lock.js';
import { tidyRunDir } from './run-tidy.js';
import { StepTimer } from './step-timer.js';

export type { EpochStats, LoopCursor, LoopSpec, StepOutcome } from './loop-spec.js';

/** What the levels of one run share. */
interface LoopRun<A> {
  spec: LoopSpec<A>;
  cursor: LoopCursor;
  state: RunStateWriter;
  timer: StepTimer;
  startTime: number;
  /** Loss sums of the resumed epoch's steps before the checkpoint, taken up by its first runEpoch. */
  resumedStats?: EpochStats;
}

const secondsSince = (start: number) => (performance.now() - start) / 1000;

/**
 * Runs a search or a training: resume, the epoch/step iteration, timing and ETA, checkpoints every N
 * steps and at each epoch end, abort, and a non-finite loss stopping the run without touching the
 * last good checkpoint.
 */
export async function* runLoop<A>(spec: LoopSpec<A>): AsyncGenerator<RunEvent<A>, void, undefined> {
  // One writer per run directory: taken before anything is read or written there.
  const lock = await acquireRunLock(spec.runDir);
  try {
    await tidyRunDir(spec.runDir);
    yield* runLocked(spec);
  } finally {
    await lock.release();
  }
}

async function* runLocked<A>(spec: LoopSpec<A>): AsyncGenerator<RunEvent<A>, void, undefined> {
  const startTime = performance.now();
  const resumed = await resumeRun(spec);
  const cursor: LoopCursor = { epoch: resumed?.next.epoch ?? 0, index: resumed?.next.index ?? 0, step: resumed?.step ?? 0 };
  const run: LoopRun<A> = { spec, cursor, state: new RunStateWriter(spec, resumed), timer: new StepTimer(), startTime, resumedStats: resumed?.epochStats };
  try {
    yield startEvent(spec, resumed);
    spec.model.train();
    await spec.prepare?.();
    run.timer.restart();
    for (; cursor.epoch < spec.epochs && cursor.step < spec.totalSteps; cursor.epoch++, cursor.index = 0) {
      if ((yield* runEpoch(run)) === 'interrupted') return;
    }
    const done = doneEvent(run, false);
    const validation = run.state.validation;
    yield { ...done, epoch: Math.max(0, cursor.epoch - 1), ...(validation ? { validation } : {}), ...(await spec.finish()) };
  } catch (error) {
    // A NonFiniteLossError arrives before its update is applied, and checkpoints refuse non-finite
    // values: the checkpoint on disk is the last good one either way.
    yield run.state.errorEvent(error, cursor);
    throw error;
  }
}

/** The steps of the cursor's epoch from its index on, then the epoch's events and checkpoint. */
async function* runEpoch<A>(run: LoopRun<A>): AsyncGenerator<RunEvent<A>, 'interrupted' | 'completed', undefined> {
  const { spec, cursor } = run;
  const epochStart = performance.now();
  const stats: EpochStats = run.resumedStats ?? { lossSum: 0, archLossSum: 0, steps: 0, archSteps: 0 };
  run.resumedStats = undefined;
  spec.openEpoch(cursor.epoch, cursor.index);
  try {
    for (; cursor.index < spec.stepsPerEpoch && cursor.step < spec.totalSteps; cursor.index++) {
      if (spec.signal?.aborted) {
        yield await run.state.checkpoint('interrupt', cursor, { epoch: cursor.epoch, index: cursor.index }, stats);
        yield doneEvent(run, true);
        return 'interrupted';
      }
      yield* runStep(run, stats);
    }
  } finally {
    await spec.closeEpoch();
  }
  const { epoch, step } = cursor;
  const meanArchLoss = stats.archSteps > 0 ? { meanArchLoss: stats.archLossSum / stats.archSteps } : {};
  const meanLoss = stats.steps > 0 ? stats.lossSum / stats.steps : Number.NaN;
  yield { type: 'epoch', time: now(), kind: spec.kind, epoch, step, meanLoss, ...meanArchLoss, seconds: secondsSince(epochStart) };
  for await (const event of spec.endOfEpoch(epoch, step, (mIoU) => run.state.reportValidation(mIoU, { epoch, step }))) {
    if (event.type === 'validation') run.state.validation = { mIoU: event.mIoU, pixelAccuracy: event.pixelAccuracy };
    yield event;
  }
  const finished = epoch + 1 >= spec.epochs || step >= spec.totalSteps;
  yield await run.state.checkpoint(finished ? 'final' : 'epoch', cursor, { epoch: epoch + 1, index: 0 });
  run.timer.restart();
  return 'completed';
}

/** One update at the cursor, its step event, and the interval checkpoint when one is due. */
async function* runStep<A>(run: LoopRun<A>, stats: EpochStats): AsyncGenerator<RunEvent<A>, void, undefined> {
  const { spec, cursor } = run;
  const outcome = await spec.step({ epoch: cursor.epoch, index: cursor.index, step: cursor.step });
  cursor.step++;
  stats.lossSum += outcome.loss;
  stats.steps++;
  if (outcome.archLoss !== undefined) {
    stats.archLossSum += outcome.archLoss;
    stats.archSteps++;
  }
  yield stepEvent(run, outcome, run.timer.tick());
  const lastOfEpoch = cursor.index + 1 >= spec.stepsPerEpoch || cursor.step >= spec.totalSteps;
  if (spec.checkpointEvery > 0 && cursor.step % spec.checkpointEvery === 0 && !lastOfEpoch) {
    yield await run.state.checkpoint('interval', cursor, { epoch: cursor.epoch, index: cursor.index + 1 }, stats);
    run.timer.restart();
  }
}

function startEvent<A>(spec: LoopSpec<A>, resumed: ResumePoint | undefined): RunEvent<A> {
  const { kind, runDir, epochs, stepsPerEpoch, totalSteps, config } = spec;
  const resumedFrom = resumed
    ? {
        resumedFrom: {
          epoch: resumed.next.epoch,
          step: resumed.step,
          checkpoint: resumed.checkpoint,
          ...(resumed.refused.length > 0 ? { refused: resumed.refused } : {}),
          ...(resumed.metricsLinesDropped > 0 ? { metricsLinesDropped: resumed.metricsLinesDropped } : {}),
        },
      }
    : {};
  return { type: 'start', time: now(), kind, runDir, epochs, stepsPerEpoch, totalSteps, config, ...resumedFrom };
}

function stepEvent<A>(run: LoopRun<A>, outcome: StepOutcome, secondsPerStep: number): StepEvent {
  const { spec, cursor } = run;
  return {
    type: 'step',
    time: now(),
    kind: spec.kind,
    epoch: cursor.epoch,
    step: cursor.step,
    stepInEpoch: cursor.index,
    totalSteps: spec.totalSteps,
    loss: outcome.loss,
    ...(outcome.archLoss !== undefined ? { archLoss: outcome.archLoss } : {}),
    learningRate: outcome.learningRate,
    gradNorm: outcome.gradNorm,
    imagesPerSecond: outcome.images / secondsPerStep,
    secondsPerStep,
    etaSeconds: secondsPerStep * (spec.totalSteps - cursor.step),
  };
}

function doneEvent<A>(run: LoopRun<A>, interrupted: boolean): DoneEvent<A> {
  const { spec, cursor } = run;
  return { type: 'done', time: now(), kind: spec.kind, epoch: cursor.epoch, step: cursor.step, interrupted, seconds: secondsSince(run.startTime) };
}
