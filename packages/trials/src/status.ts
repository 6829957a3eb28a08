import { Queue, type Job, type JobType } from 'bullmq';
import type { TrialJobData, TrialProgress, TrialResult } from './job.js';
import { assertRedisReachable, queueConnection, TRIALS_QUEUE } from './redis.js';
import { compareTrialIds } from './plan.js';

/** The states a trial's job can be in, in the order `trials status` lists them. */
const STATES = ['active', 'waiting', 'prioritized', 'delayed', 'paused', 'waiting-children', 'completed', 'failed'] as const satisfies readonly JobType[];
export type TrialState = (typeof STATES)[number];

/** One row of `trials status`. */
export interface TrialStatus {
  id: string;
  seed: number;
  point: Record<string, unknown>;
  state: TrialState;
  /** Epochs completed / planned (0 / 0 before the trial first started). */
  epoch: number;
  epochs: number;
  /** The latest validation mIoU (the result's, once completed). */
  mIoU: number | null;
  /** Validation mIoU per epoch so far (index: epoch − 1; null: not validated), for the Fig. 4 plot. */
  history: (number | null)[];
  /** The worker that last took the trial. */
  worker: string | null;
  /** Times the trial was started (a first run, then restarts after a dead worker, a retry or an interruption). */
  starts: number;
  /** Runs that ended in an error. */
  failures: number;
  /** Times the trial was taken from a worker that stopped answering. */
  stalls: number;
  /** Why it failed (the last error), if it did. */
  failedReason: string | null;
}

function isProgress(value: unknown): value is TrialProgress {
  return typeof value === 'object' && value !== null && 'epoch' in value && 'mIoU' in value;
}

function statusOf(job: Job<TrialJobData, TrialResult>, state: TrialState): TrialStatus {
  const progress = isProgress(job.progress) ? job.progress : undefined;
  const result = state === 'completed' ? (job.returnvalue as TrialResult | null) : null;
  return {
    id: job.data.id,
    seed: job.data.seed,
    point: job.data.point,
    state,
    epoch: progress?.epoch ?? 0,
    epochs: progress?.epochs ?? 0,
    mIoU: result?.mIoU ?? progress?.mIoU ?? null,
    history: progress?.history ?? [],
    worker: job.processedBy ?? null,
    starts: job.attemptsStarted ?? 0,
    // BullMQ counts the successful run among the attempts made.
    failures: Math.max(0, (job.attemptsMade ?? 0) - (state === 'completed' ? 1 : 0)),
    stalls: job.stalledCounter ?? 0,
    failedReason: state === 'failed' ? (job.failedReason ?? null) : null,
  };
}

/** Every trial in the queue with its state and progress, by id. Works from any machine that reaches Redis. */
export async function listTrials(options: { redis: string }): Promise<TrialStatus[]> {
  await assertRedisReachable(options.redis);
  const connection = queueConnection(options.redis);
  const queue = new Queue<TrialJobData, TrialResult>(TRIALS_QUEUE, { connection });
  queue.on('error', () => {});
  try {
    const rows: TrialStatus[] = [];
    for (const state of STATES) {
      const jobs = (await queue.getJobs([state], 0, -1, true)) as Job<TrialJobData, TrialResult>[];
      for (const job of jobs) if (job?.data?.id) rows.push(statusOf(job, state));
    }
    return rows.sort((a, b) => compareTrialIds(a.id, b.id));
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
