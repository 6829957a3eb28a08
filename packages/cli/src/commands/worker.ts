import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { RunTrial, WorkerEvent } from '@autodeeplab/trials';
import { note, setupBackend, type CommandContext } from '../context.js';
import { addCommonOptions, examples, parseInteger, type CommonOptions } from '../options.js';
import { runPlugins } from '../plugins.js';
import { RunStoppedBySignal, STOP_SIGNALS, type StopSignal } from '../errors.js';
import { DEFAULT_REDIS } from './trials.js';

interface WorkerFlags extends CommonOptions {
  redis: string;
  store: string;
  concurrency: number;
  stalledAfter: number;
}

/** One line per trial event, on stderr (the search's own progress lines come between). */
function describe(event: WorkerEvent): string {
  switch (event.type) {
    case 'trial-start':
      return `trial ${event.id}: ${event.resume ? 'resuming from its checkpoint' : 'starting'} in ${event.runDir} (run ${event.attempt})`;
    case 'trial-done':
      return `trial ${event.id}: done${event.mIoU === null ? '' : `, validation mIoU ${(100 * event.mIoU).toFixed(2)}%`}`;
    case 'trial-interrupted':
      return `trial ${event.id}: interrupted with a checkpoint; back in the queue`;
    case 'trial-failed':
      return `trial ${event.id}: failed: ${event.message}${event.retry ? ' (retried later)' : ' (not retried: fix the input and enqueue it again)'}`;
    case 'trial-lock-lost':
      return `trial ${event.id}: its lock on the queue lapsed (this worker was busy longer than --stalled-after); another worker may take it: raise --stalled-after`;
    case 'error':
      return `worker: ${event.message}`;
  }
}

/** The ordinary search of one trial, resuming from its run directory's checkpoint when it has one. */
async function searchTrial(ctx: CommandContext, options: WorkerFlags): Promise<RunTrial> {
  // Loaded before the first trial is taken: a first import inside a trial would hold the event loop
  // for seconds, time in which the trial's lock is not renewed.
  const { searchFromConfig } = await import('./search-run.js');
  return async (trial, { runDir, resume }) => {
    const source = `${trial.source} (trial ${trial.id})`;
    const raw = await runPlugins({ ...trial.config, runDir }, {}, source);
    const summary = await searchFromConfig(ctx, { resume: resume ? runDir : undefined, verbose: options.verbose }, raw, source);
    return { interrupted: summary.interrupted, steps: summary.steps, validation: summary.validation };
  };
}

/** Resolves with the first SIGINT or SIGTERM. */
function firstStopSignal(): { signal: Promise<StopSignal>; dispose(): void } {
  let dispose = () => {};
  const signal = new Promise<StopSignal>((resolveSignal) => {
    const handlers = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((name) => {
      const handler = () => resolveSignal(name);
      process.once(name, handler);
      return [name, handler] as const;
    });
    dispose = () => handlers.forEach(([name, handler]) => process.off(name, handler));
  });
  return { signal, dispose: () => dispose() };
}

export function registerWorker(program: Command, ctx: CommandContext): void {
  const command = program
    .command('worker')
    .description('take trials from the queue and run their searches, until SIGINT or SIGTERM (run one or more per machine)')
    .option('--redis <url>', 'the queue’s Redis', DEFAULT_REDIS)
    .requiredOption('--store <dir>', 'where trials’ run directories go (<store>/<trial-id>/): the same directory for every worker (a shared file system)')
    .option('--concurrency <n>', 'trials this worker runs at once', parseInteger('--concurrency', 1), 1)
    .option(
      '--stalled-after <seconds>',
      'a worker silent this long (killed, machine lost) loses its trial to another worker, which resumes it',
      parseInteger('--stalled-after', 1),
      60,
    )
    .addHelpText(
      'after',
      examples(['autodeeplab worker --store /shared/trials', 'autodeeplab worker --redis redis://queue-host:6379 --store /shared/trials --backend webgpu']),
    );
  addCommonOptions(command, { json: false }).action(async (options: WorkerFlags) => {
    const { runWorker, displayRedisUrl } = await import('@autodeeplab/trials');
    const store = resolve(options.store);
    const stop = firstStopSignal();
    await setupBackend(ctx, options);
    const worker = await runWorker({
      redis: options.redis,
      store,
      concurrency: options.concurrency,
      stalledAfterMs: options.stalledAfter * 1000,
      runTrial: await searchTrial(ctx, options),
      onEvent: (event) => note(ctx, describe(event)),
    });
    note(ctx, `worker ${worker.name}: taking trials from ${displayRedisUrl(options.redis)} into ${store} (stop with Ctrl-C or SIGTERM)`);
    const name = await stop.signal;
    note(ctx, `worker ${worker.name}: ${name}: finishing (a running trial stops at its next step with a checkpoint)`);
    await worker.close();
    stop.dispose();
    throw new RunStoppedBySignal(name);
  });
}
