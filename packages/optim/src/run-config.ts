import { z } from 'zod';

/** Config fields every run loop (search, train) shares; `checkpointEvery` defaults differ per loop. */
export function runConfigFields(defaultCheckpointEvery: number) {
  return {
    ignoreLabel: z.number().int().default(255),
    /** Seeds the run's random stream (saved and restored with checkpoints). */
    seed: z.number().int().default(0),
    /** Write a checkpoint every this many steps (0 = only at epoch ends). */
    checkpointEvery: z.number().int().nonnegative().default(defaultCheckpointEvery),
    /** Keep this many step-stamped checkpoints in `checkpoints/` besides the latest (1 = only the latest). */
    keepLast: z.number().int().positive().default(1),
    /** Validate every this many epochs (0 = never); the last epoch is always validated. */
    validateEvery: z.number().int().nonnegative().default(1),
    /**
     * Backend instances sharing each batch: the main thread and `workers − 1` worker threads (see
     * "Using both cores"). 1 = everything on the main thread. BN statistics are then per part.
     */
    workers: z.number().int().positive().max(64).default(1),
  };
}
