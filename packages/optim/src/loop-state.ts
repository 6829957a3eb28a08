import { now, type CheckpointEvent, type ErrorEvent } from './events.js';
import type { LoopCursor, LoopSpec } from './loop-spec.js';
import type { ResumePoint } from './loop-resume.js';
import { saveRunCheckpoint, type RunState } from './run-checkpoint.js';

/**
 * Writes a run's state: checkpoints with the position of the next batch, the best validation so far,
 * and the last good checkpoint that an error event points to.
 */
export class RunStateWriter {
  private best: RunState['best'];
  private lastCheckpoint: string | undefined;

  constructor(
    private readonly spec: LoopSpec<unknown>,
    resumed: ResumePoint | undefined,
  ) {
    this.best = resumed?.best;
    this.lastCheckpoint = resumed?.checkpoint;
  }

  /** Keeps the best validation mIoU and where it was reached. */
  reportValidation(mIoU: number, at: { epoch: number; step: number }): void {
    if (!this.best || mIoU > this.best.mIoU) this.best = { mIoU, epoch: at.epoch, step: at.step };
  }

  /** Saves a checkpoint at `cursor` whose next batch is `next` (an index past the epoch's end moves to the next epoch). */
  async checkpoint(reason: CheckpointEvent['reason'], cursor: LoopCursor, next: { epoch: number; index: number }): Promise<CheckpointEvent> {
    const { kind, stepsPerEpoch, totalSteps, rng, config } = this.spec;
    const state: RunState = {
      format: 'autodeeplab-run-state',
      version: 1,
      kind,
      step: cursor.step,
      next: next.index >= stepsPerEpoch ? { epoch: next.epoch + 1, index: 0 } : next,
      stepsPerEpoch,
      totalSteps,
      rng: rng.getState(),
      config,
      ...(this.best ? { best: this.best } : {}),
      createdAt: now(),
    };
    const { runDir, model, optimizers, keepLast } = this.spec;
    this.lastCheckpoint = await saveRunCheckpoint(runDir, model, optimizers, state, keepLast);
    return { type: 'checkpoint', time: now(), kind, epoch: cursor.epoch, step: cursor.step, path: this.lastCheckpoint, reason };
  }

  /** The error event of a failed run, naming the checkpoint left in place (the last good one). */
  errorEvent(error: unknown, cursor: LoopCursor): ErrorEvent {
    return {
      type: 'error',
      time: now(),
      kind: this.spec.kind,
      epoch: cursor.epoch,
      step: cursor.step,
      message: error instanceof Error ? error.message : String(error),
      ...(this.lastCheckpoint ? { checkpoint: this.lastCheckpoint } : {}),
    };
  }
}
