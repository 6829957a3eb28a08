import { mkdir, mkdtemp, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserInputError } from '@autodeeplab/core';
import { bestTrial, enqueueTrials, listTrials, planTrials, runWorker, startRedisServer, type LocalRedis, type RunTrial, type TrialStatus } from './index.js';
import type { TrialJobData } from './job.js';

/** A stand-in for the search: writes the metrics.jsonl lines a search writes, its mIoU set by the trial's seed. */
const fakeSearch =
  (calls: string[], behaviour: (trial: TrialJobData) => void = () => {}): RunTrial =>
  async (trial, { runDir }) => {
    calls.push(trial.id);
    behaviour(trial);
    await mkdir(runDir, { recursive: true });
    const mIoU = 0.1 * (trial.seed + 1);
    const lines = [
      { type: 'start', epochs: 2, totalSteps: 2 },
      { type: 'epoch', epoch: 0, step: 1 },
      { type: 'validation', epoch: 0, step: 1, mIoU: mIoU / 2 },
      { type: 'epoch', epoch: 1, step: 2 },
      { type: 'validation', epoch: 1, step: 2, mIoU },
    ];
    for (const line of lines) await appendFile(join(runDir, 'metrics.jsonl'), `${JSON.stringify(line)}\n`);
    return { interrupted: false, steps: 2, validation: { mIoU } };
  };

const jobsOf = (seeds: number, prefix = '') => planTrials({ seeds }).map((t) => ({ ...t, id: `${prefix}${t.id}`, config: { seed: t.seed }, source: 'test' }));

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

let redis: LocalRedis;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe('planTrials', () => {
  it('crosses every seed with every sweep point, with stable ids', () => {
    const plan = planTrials({ seeds: 2, sweep: [{ key: 'search.weightLr', values: [0.01, 0.02] }] });
    expect(plan.map((t) => t.id)).toEqual([
      'seed-0_search.weightLr-0.01',
      'seed-0_search.weightLr-0.02',
      'seed-1_search.weightLr-0.01',
      'seed-1_search.weightLr-0.02',
    ]);
    expect(plan[3]).toEqual({ id: 'seed-1_search.weightLr-0.02', seed: 1, point: { 'search.weightLr': 0.02 } });
  });

  it('refuses to sweep the seed or the run directory', () => {
    expect(() => planTrials({ seeds: 1, sweep: [{ key: 'seed', values: [1] }] })).toThrow(UserInputError);
    expect(() => planTrials({ seeds: 1, sweep: [{ key: 'runDir', values: ['a'] }] })).toThrow(/not sweepable/);
    expect(() => planTrials({ seeds: 0 })).toThrow(/--seeds/);
  });
});

describe('trials on a real redis-server', () => {
  it('two workers run four trials, each once; status and best read the results', async () => {
    const store = await mkdtemp(join(tmpdir(), 'adl-trials-'));
    const calls: string[] = [];
    const report = await enqueueTrials({ redis: redis.url, trials: jobsOf(4, 'a-') });
    expect(report.added).toHaveLength(4);
    const again = await enqueueTrials({ redis: redis.url, trials: jobsOf(4, 'a-') });
    expect(again).toEqual({ added: [], existing: report.added });
    const workers = await Promise.all(
      [1, 2].map((n) => runWorker({ redis: redis.url, store, runTrial: fakeSearch(calls), name: `w${n}`, progressEveryMs: 50 })),
    );
    await until(async () => (await listTrials({ redis: redis.url })).filter((t) => t.state === 'completed').length === 4);
    await Promise.all(workers.map((w) => w.close()));
    expect([...calls].sort()).toEqual(report.added.sort());
    const rows = (await listTrials({ redis: redis.url })).filter((t) => t.id.startsWith('a-'));
    for (const row of rows) {
      expect(row).toMatchObject<Partial<TrialStatus>>({ state: 'completed', starts: 1, failures: 0, stalls: 0 });
      expect(row.mIoU).toBeCloseTo(0.1 * (row.seed + 1), 12);
      expect(row.history).toEqual([row.mIoU! / 2, row.mIoU]);
      expect(['w1', 'w2']).toContain(row.worker);
    }
    const best = await bestTrial({ redis: redis.url, store });
    expect(best).toMatchObject({ id: 'a-seed-3', epochs: 2, runDir: join(store, 'a-seed-3') });
    expect(best.mIoU).toBeCloseTo(0.4, 12);
  });

  it('a user error fails the trial at once; a transient error is retried with back-off', async () => {
    const store = await mkdtemp(join(tmpdir(), 'adl-trials-'));
    const calls: string[] = [];
    const flaky = new Set(['b-seed-1']);
    const runTrial = fakeSearch(calls, (trial) => {
      if (trial.id === 'b-seed-0') throw new UserInputError('dataset.root /nowhere does not exist');
      if (flaky.delete(trial.id)) throw new Error('connection reset by the file server');
    });
    await enqueueTrials({ redis: redis.url, trials: jobsOf(2, 'b-'), attempts: 3, backoffMs: 100 });
    const worker = await runWorker({ redis: redis.url, store, runTrial, progressEveryMs: 50 });
    const rows = async () => (await listTrials({ redis: redis.url })).filter((t) => t.id.startsWith('b-'));
    await until(async () => (await rows()).every((t) => t.state === 'completed' || t.state === 'failed'));
    await worker.close();
    const [bad, flakyRow] = await rows();
    expect(bad).toMatchObject({ id: 'b-seed-0', state: 'failed', starts: 1, failedReason: 'dataset.root /nowhere does not exist' });
    expect(flakyRow).toMatchObject({ id: 'b-seed-1', state: 'completed', starts: 2, failures: 1 });
    expect(calls.filter((id) => id === 'b-seed-0')).toHaveLength(1);
  });

  it('an unreachable Redis is a user error naming the URL, at once', async () => {
    const started = Date.now();
    const url = `redis://127.0.0.1:${redis.port + 1}`;
    await expect(listTrials({ redis: url })).rejects.toThrow(new RegExp(`cannot reach Redis at ${url.replace(/\./g, '\\.')}`));
    await expect(enqueueTrials({ redis: 'localhost:6379', trials: [] })).rejects.toThrow(/expected a Redis URL/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
