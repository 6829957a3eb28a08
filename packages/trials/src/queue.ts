import { Queue } from 'bullmq';
import type { TrialJobData } from './job.js';
import { assertRedisReachable, queueConnection, TRIALS_QUEUE } from './redis.js';

export interface EnqueueOptions {
  redis: string;
  trials: readonly TrialJobData[];
  /** Runs of a trial before it is marked failed after transient errors (user errors are never retried). */
  attempts?: number;
  /** The first retry's delay; each next one doubles it. */
  backoffMs?: number;
}

/** Which trials were added, and which were already in the queue (same id: left as they are). */
export interface EnqueueReport {
  added: string[];
  existing: string[];
}

/** One job per trial, its id the trial's: enqueueing a study again adds only the trials it lacks. */
export async function enqueueTrials(options: EnqueueOptions): Promise<EnqueueReport> {
  await assertRedisReachable(options.redis);
  const connection = queueConnection(options.redis);
  const queue = new Queue<TrialJobData>(TRIALS_QUEUE, { connection });
  queue.on('error', () => {});
  try {
    const report: EnqueueReport = { added: [], existing: [] };
    for (const trial of options.trials) {
      const existing = await queue.getJob(trial.id);
      if (existing) {
        report.existing.push(trial.id);
        continue;
      }
      await queue.add(trial.id, trial, {
        jobId: trial.id,
        attempts: options.attempts ?? 3,
        backoff: { type: 'exponential', delay: options.backoffMs ?? 30_000 },
      });
      report.added.push(trial.id);
    }
    return report;
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
