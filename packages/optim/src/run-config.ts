import { z } from 'zod';

/** Config fields every run loop (search, train) shares; `checkpointEvery` defaults differ per loop. */
export function runConfigFields(defaultCheckpointEvery: number) {
  return {
    ignoreLabel: z.number().int().default(255),
    /** Seeds the run's random stream (saved and restored with checkpoints). */
    seed: z.number().int().default(0),
    /** Write a checkpoint every this many steps (0 = only at epoch ends). */
    checkpointEvery: z.number().int().nonnegative().default(defaultCheckpointEvery),
    /**
     * Keep copies of the newest this many checkpoints in `checkpoints/step-<n>/` besides the latest
     * (1 = only the latest). A resume falls back to them when the latest is unreadable.
     */
    keepLast: z.number().int().positive().default(2),
    /** Also keep the checkpoint of the best validation mIoU so far in `checkpoint-best/`. */
    keepBest: z.boolean().default(false),
    /** Validate every this many epochs (0 = never); the last epoch is always validated. */
    validateEvery: z.number().int().nonnegative().default(1),
    /**
     * Backend instances sharing each batch: the main thread and `workers − 1` worker threads (see
     * "Using both cores"). 1 = everything on the main thread. BN statistics are then per part.
     */
    workers: z.number().int().positive().max(64).default(1),
  };
}
