/**
 * How fast the queue moves trials, so that users know it is not the bottleneck: no-op trials through a
 * real redis-server on 127.0.0.1. Throughput: a backlog of trials drained by one worker (concurrency 1
 * and 8). Overhead: one trial enqueued at a time into an idle worker, enqueue → the runner called.
 *
 *   npx tsx packages/trials/bench.ts [trials]
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enqueueTrials, runWorker, startRedisServer, type RunTrial, type TrialJobData } from './src/index.js';

const count = Number(process.argv[2] ?? 1000);
const noop: RunTrial = async () => ({ interrupted: false, steps: 0, validation: null });
const trials = (prefix: string, n: number): TrialJobData[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, seed: i, point: {}, config: {}, source: 'bench' }));

async function throughput(redis: string, concurrency: number): Promise<number> {
  const store = await mkdtemp(join(tmpdir(), 'adl-trials-bench-'));
  await enqueueTrials({ redis, trials: trials(`c${concurrency}`, count) });
  let done = 0;
  let finished = () => {};
  const all = new Promise<void>((resolve) => (finished = resolve));
  const started = performance.now();
  const worker = await runWorker({
    redis,
    store,
    concurrency,
    runTrial: noop,
    onEvent: (e) => {
      if (e.type === 'trial-done' && ++done === count) finished();
    },
  });
  await all;
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  return count / seconds;
}

async function overhead(redis: string, samples: number): Promise<number[]> {
  const store = await mkdtemp(join(tmpdir(), 'adl-trials-bench-'));
  let onStart = () => {};
  const worker = await runWorker({ redis, store, runTrial: async (trial, run) => (onStart(), noop(trial, run)) });
  const latencies: number[] = [];
  for (const trial of trials('latency', samples)) {
    const started = new Promise<void>((resolve) => (onStart = resolve));
    const t0 = performance.now();
    await enqueueTrials({ redis, trials: [trial] });
    await started;
    latencies.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  await worker.close();
  return latencies.sort((a, b) => a - b);
}

const server = await startRedisServer();
try {
  for (const concurrency of [1, 8])
    console.log(`throughput, concurrency ${concurrency}: ${(await throughput(server.url, concurrency)).toFixed(0)} no-op trials/s (${count} trials)`);
  const ms = await overhead(server.url, 50);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!.toFixed(1);
  console.log(`enqueue → trial start (idle worker, 50 trials, each enqueued with its own connection check): median ${at(0.5)} ms, p90 ${at(0.9)} ms`);
} finally {
  await server.stop();
}
