import { join } from 'node:path';
import { now, type CheckpointEvent, type ErrorEvent } from './events.js';
import type { EpochStats, LoopCursor, LoopSpec } from './loop-spec.js';
import type { ResumePoint } from './loop-resume.js';
import { saveRunCheckpoint, type RunState } from './run-checkpoint.js';
import { BEST_CHECKPOINT_DIR } from './run-dir.js';

/**
 * Writes a run's state: checkpoints with the position of the next batch, the best and the last
 * validation so far, and the last good checkpoint that an error event points to.
 */
export class RunStateWriter {
  private best: RunState['best'];
  /** A validation beat the best since the last checkpoint: the next one is also the best one. */
  private bestPending = false;
  /** The last validation (for the done event), restored on resume. */
  validation: RunState['lastValidation'];
  private lastCheckpoint: string | undefined;

  constructor(
    private readonly spec: LoopSpec<unknown>,
    resumed: ResumePoint | undefined,
  ) {
    this.best = resumed?.best;
    this.validation = resumed?.lastValidation;
    this.lastCheckpoint = resumed?.checkpoint;
  }

  /** Keeps the best validation mIoU and where it was reached. */
  reportValidation(mIoU: number, at: { epoch: number; step: number }): void {
    if (!this.best || mIoU > this.best.mIoU) {
      this.best = { mIoU, epoch: at.epoch, step: at.step };
      this.bestPending = true;
    }
  }

  /**
   * Saves a checkpoint at `cursor` whose next batch is `next` (an index past the epoch's end moves to
   * the next epoch); `stats` are the loss sums of the steps of `next`'s epoch done so far.
   */
  async checkpoint(
    reason: CheckpointEvent['reason'],
    cursor: LoopCursor,
    next: { epoch: number; index: number },
    stats?: EpochStats,
  ): Promise<CheckpointEvent> {
    const { kind, stepsPerEpoch, totalSteps, rng, config } = this.spec;
    const nextEpoch = next.index >= stepsPerEpoch;
    const state: RunState = {
      format: 'autodeeplab-run-state',
      version: 1,
      kind,
      step: cursor.step,
      next: nextEpoch ? { epoch: next.epoch + 1, index: 0 } : next,
      stepsPerEpoch,
      totalSteps,
      rng: rng.getState(),
      config,
      ...(this.best ? { best: this.best } : {}),
      ...(this.validation ? { lastValidation: this.validation } : {}),
      ...(stats && !nextEpoch && next.index > 0 ? { epochStats: { ...stats } } : {}),
      createdAt: now(),
    };
    const { runDir, model, optimizers, keepLast, keepBest } = this.spec;
    const best = keepBest && this.bestPending;
    this.lastCheckpoint = await saveRunCheckpoint(runDir, model, optimizers, state, { keepLast, best });
    this.bestPending = false;
    return {
      type: 'checkpoint',
      time: now(),
      kind,
      epoch: cursor.epoch,
      step: cursor.step,
      path: this.lastCheckpoint,
      reason,
      ...(best ? { best: join(runDir, BEST_CHECKPOINT_DIR) } : {}),
    };
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
