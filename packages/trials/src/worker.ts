import { hostname } from 'node:os';
import { join } from 'node:path';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { isCheckpoint, isUserInputError } from '@autodeeplab/core';
import { CHECKPOINT_DIR, METRICS_FILE } from '@autodeeplab/optim';
import type { TrialJobData, TrialResult } from './job.js';
import { MetricsFollower } from './metrics-follower.js';
import { assertRedisReachable, queueConnection, TRIALS_QUEUE } from './redis.js';
import { assertWritableStore } from './store.js';
import { clearAbandonedRunLock } from './run-lock.js';

/** How a trial's run ended, as the injected runner reports it. */
export interface TrialOutcome {
  /** Stopped early on request (a signal): the trial goes back to the queue and resumes later. */
  interrupted: boolean;
  steps: number;
  validation: { mIoU: number } | null;
}

/** Runs one trial: the ordinary search of `trial.config` into `runDir`, from its checkpoint when `resume`. */
export type RunTrial = (trial: TrialJobData, run: { runDir: string; resume: boolean }) => Promise<TrialOutcome>;

/** What a worker tells its caller (the library prints nothing). */
export type WorkerEvent =
  | { type: 'trial-start'; id: string; runDir: string; resume: boolean; attempt: number }
  | { type: 'trial-done'; id: string; mIoU: number | null }
  | { type: 'trial-interrupted'; id: string }
  | { type: 'trial-failed'; id: string; message: string; retry: boolean }
  /** The worker could not renew the trial's lock in time: another worker may take the trial while this one still runs it. */
  | { type: 'trial-lock-lost'; id: string }
  | { type: 'error'; message: string };

export interface WorkerOptions {
  redis: string;
  /** The directory of every trial's run directory (`<store>/<trial-id>/`): shared by all workers. */
  store: string;
  concurrency?: number;
  runTrial: RunTrial;
  /**
   * How long a trial's lock lasts without renewal: a worker dead this long loses its trial to another
   * worker. Longer than the longest stretch a step blocks the event loop.
   */
  stalledAfterMs?: number;
  /** Times a trial may be taken over from a dead worker before it is marked failed. */
  maxStalls?: number;
  /** How often the trial's metrics.jsonl is read for progress. */
  progressEveryMs?: number;
  /** This worker's name in `trials status` (default host-pid). */
  name?: string;
  onEvent?: (event: WorkerEvent) => void;
}

/** A running worker: `close` lets the running trials end (a signal stops them with a checkpoint) and takes no new ones. */
export interface TrialWorker {
  name: string;
  close(): Promise<void>;
}

/** Reports the trial's metrics as job progress while it runs. */
function followProgress(job: Job<TrialJobData>, metricsPath: string, everyMs: number): { stop(): Promise<void> } {
  const follower = new MetricsFollower(metricsPath);
  let busy: Promise<void> = Promise.resolve();
  const tick = () => {
    busy = busy.then(async () => {
      if (await follower.poll()) await job.updateProgress({ ...follower.progress });
    });
    busy = busy.catch(() => {});
  };
  const timer = setInterval(tick, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      tick();
      await busy;
    },
  };
}

/** Takes trials from the queue and runs each with `runTrial` in `<store>/<trial-id>/`, resuming from its checkpoint. */
export async function runWorker(options: WorkerOptions): Promise<TrialWorker> {
  const { redis, store, runTrial, onEvent = () => {} } = options;
  await assertWritableStore(store);
  await assertRedisReachable(redis);
  const name = options.name ?? `${hostname()}-${process.pid}`;
  const stalledAfterMs = options.stalledAfterMs ?? 60_000;

  const processTrial = async (job: Job<TrialJobData>, token?: string): Promise<TrialResult> => {
    const trial = job.data;
    const runDir = join(store, trial.id);
    const resume = await isCheckpoint(join(runDir, CHECKPOINT_DIR));
    onEvent({ type: 'trial-start', id: trial.id, runDir, resume, attempt: job.attemptsStarted });
    const progress = followProgress(job, join(runDir, METRICS_FILE), options.progressEveryMs ?? 1000);
    let outcome: TrialOutcome;
    try {
      await clearAbandonedRunLock(runDir, job.attemptsStarted > 1);
      outcome = await runTrial(trial, { runDir, resume });
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      // A user error (bad data, a bad config) fails the same way every time: no retry.
      const retry = !isUserInputError(error);
      onEvent({ type: 'trial-failed', id: trial.id, message, retry });
      if (!retry) throw new UnrecoverableError(message);
      throw error;
    } finally {
      await progress.stop();
    }
    if (outcome.interrupted) {
      // Back to the queue without spending an attempt: it resumes from the checkpoint just written.
      onEvent({ type: 'trial-interrupted', id: trial.id });
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    const mIoU = outcome.validation?.mIoU ?? null;
    onEvent({ type: 'trial-done', id: trial.id, mIoU });
    return { mIoU, steps: outcome.steps };
  };

  const connection = queueConnection(redis);
  const worker = new Worker<TrialJobData, TrialResult>(TRIALS_QUEUE, processTrial, {
    connection,
    name,
    concurrency: options.concurrency ?? 1,
    lockDuration: stalledAfterMs,
    stalledInterval: Math.max(500, Math.floor(stalledAfterMs / 2)),
    maxStalledCount: options.maxStalls ?? 3,
    // Keep finished trials: `trials status` and `trials best` read them.
    removeOnComplete: { count: 100_000 },
    removeOnFail: { count: 100_000 },
  });
  const lost = new Set<string>();
  worker.on('lockRenewalFailed', (ids) => {
    for (const id of ids.filter((i) => !lost.has(i))) {
      lost.add(id);
      onEvent({ type: 'trial-lock-lost', id });
    }
  });
  // Lock renewal failures are reported once per trial above.
  worker.on('error', (error) => {
    if (!/could not renew lock/i.test(error.message)) onEvent({ type: 'error', message: error.message });
  });
  let closing: Promise<void> | undefined;
  return {
    name,
    close() {
      closing ??= worker.close().finally(() => connection.disconnect());
      return closing;
    },
  };
}
