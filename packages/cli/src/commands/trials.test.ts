import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedisServer, type LocalRedis, type TrialStatus } from '@autodeeplab/trials';
import { runCaptured } from '../testing.js';

/**
 * `trials` and `worker` against a real redis-server on 127.0.0.1: workers are separate processes
 * (as on separate machines), the trials are tiny searches on synthetic data, and each trial's result
 * is checked against the same search run alone with `autodeeplab search`.
 */

const CLI_DIR = fileURLToPath(new URL('../..', import.meta.url));

interface Worker {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** A worker process, as `autodeeplab worker` runs on another machine; `--stalled-after 5` so that a killed one is noticed in seconds. */
function startWorker(redis: string, store: string): Worker {
  const args = ['--import', 'tsx', 'src/cli.ts', 'worker', '--redis', redis, '--store', store, '--stalled-after', '5', '--backend', 'cpu'];
  const child = spawn(process.execPath, args, { cwd: CLI_DIR, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AUTODEEPLAB_LOG_INTERVAL_MS: '0' } });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

async function searchConfig(dir: string, extra = ''): Promise<string> {
  const path = join(dir, 'search.yaml');
  await writeFile(
    path,
    [
      'dataset: {kind: synthetic, size: 4, height: 17, width: 17, numClasses: 3}',
      'val: {kind: synthetic, size: 2, height: 17, width: 17, numClasses: 3, seed: 99}',
      'searchSpace: {layers: 2, blocks: 2, filterMultiplier: 2, scales: [4, 8]}',
      'search: {epochs: 2, archStartEpoch: 1, checkpointEvery: 1}',
      'data: {batchSize: 1}',
      extra,
    ].join('\n'),
  );
  return path;
}

async function status(redis: string): Promise<TrialStatus[]> {
  const r = await runCaptured(['trials', 'status', '--redis', redis, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as TrialStatus[];
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 150_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) {
      const logs = workers.map((w, i) => `worker ${i + 1}:\n${w.stderr()}`).join('\n');
      throw new Error(`timed out waiting for ${what}\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The uninterrupted search of the same config and seed, run alone. */
async function plainSearch(config: string, seed: number, runDir: string) {
  const r = await runCaptured(['search', '--config', config, '--seed', String(seed), '--run-dir', runDir, '--backend', 'cpu', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return { genotype: await architecture(runDir), mIoU: (JSON.parse(r.stdout) as { validation: { mIoU: number } }).validation.mIoU };
}

/** The run's genotype without its provenance (its time of writing differs between runs). */
async function architecture(runDir: string): Promise<unknown> {
  const genotype = JSON.parse(await readFile(join(runDir, 'genotype.json'), 'utf8')) as { search?: { createdAt?: string } };
  delete genotype.search?.createdAt;
  return genotype;
}

const lastValidation = (runDir: string) =>
  readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"validation"'))
    .map((l) => JSON.parse(l) as { mIoU: number })
    .at(-1)!.mIoU;

const SEEDS = [0, 1, 2, 3, 4, 5];

let redis: LocalRedis | undefined;
const workers: Worker[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await redis?.stop();
  redis = undefined;
});

describe('autodeeplab trials and worker on a real redis-server', () => {
  it('three workers run six trials, each once, each equal to the same search run alone', async () => {
    redis = await startRedisServer();
    const dir = await mkdtemp(join(tmpdir(), 'adl-trials-'));
    const config = await searchConfig(dir);
    const store = join(dir, 'store');
    const start = await runCaptured(['trials', 'start', '--config', config, '--seeds', '6', '--redis', redis.url, '--store', store]);
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toContain('enqueued 6 trial(s)');
    workers.push(...[1, 2, 3].map(() => startWorker(redis!.url, store)));
    await until(async () => (await status(redis!.url)).filter((t) => t.state === 'completed').length === 6, 'six completed trials');
    const rows = await status(redis.url);
    const plot = await runCaptured(['trials', 'status', '--redis', redis.url, '--plot', join(dir, 'fig4.png')]);
    expect(plot.code, plot.stderr).toBe(0);
    expect(readFileSync(join(dir, 'fig4.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(rows.map((r) => r.history.length)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(rows.map((r) => [r.id, r.state, r.starts, r.epoch, r.epochs])).toEqual(SEEDS.map((s) => [`seed-${s}`, 'completed', 1, 2, 2]));
    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) expect(await w.exited, w.stderr()).toBe(143);
    const log = workers.map((w) => w.stderr()).join('');
    for (const seed of SEEDS) expect(log.split(`trial seed-${seed}: starting`).length - 1).toBe(1);

    // Every trial against the same seed searched alone, one after another in this process.
    for (const seed of SEEDS) {
      const alone = await plainSearch(config, seed, join(dir, `alone-${seed}`));
      expect(await architecture(join(store, `seed-${seed}`))).toEqual(alone.genotype);
      expect(lastValidation(join(store, `seed-${seed}`))).toBe(alone.mIoU);
      expect(rows[seed]!.mIoU).toBe(alone.mIoU);
    }
    const best = await runCaptured(['trials', 'best', '--redis', redis.url, '--store', store, '--json']);
    expect(best.code, best.stderr).toBe(0);
    const chosen = JSON.parse(best.stdout) as { id: string; mIoU: number };
    expect(chosen.mIoU).toBe(Math.max(...rows.map((r) => r.mIoU!)));
  }, 300_000);

  it('a worker SIGKILLed mid-trial: another worker resumes the trial from its checkpoint and ends as an uninterrupted run', async () => {
    redis = await startRedisServer();
    const dir = await mkdtemp(join(tmpdir(), 'adl-trials-'));
    // Eight images: four steps an epoch, so that the kill lands mid-trial.
    const config = await searchConfig(dir, 'seed: 5');
    await writeFile(config, (await readFile(config, 'utf8')).replace('size: 4,', 'size: 8,'));
    const store = join(dir, 'store');
    expect((await runCaptured(['trials', 'start', '--config', config, '--seeds', '1', '--redis', redis.url, '--store', store])).code).toBe(0);
    const runDir = join(store, 'seed-5');
    const first = startWorker(redis.url, store);
    workers.push(first);
    const stepsDone = () =>
      existsSync(join(runDir, 'metrics.jsonl')) ? readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('"type":"checkpoint"').length - 1 : 0;
    await until(() => stepsDone() >= 2, 'two checkpoints');
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe(null);
    expect((await status(redis.url))[0]!.state).toBe('active');

    workers.push(startWorker(redis.url, store));
    await until(async () => (await status(redis!.url))[0]!.state === 'completed', 'the trial completed by the second worker');
    const [row] = await status(redis.url);
    expect(row).toMatchObject({ id: 'seed-5', state: 'completed', stalls: 1, starts: 2, failures: 0 });
    expect(workers[1]!.stderr()).toContain('trial seed-5: resuming from its checkpoint');
    const starts = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"type":"start"'))
      .map((l) => JSON.parse(l) as { resumedFrom?: { step: number } });
    expect(starts.length).toBe(2);
    expect(starts[1]!.resumedFrom!.step).toBeGreaterThanOrEqual(2);

    const alone = await plainSearch(config, 5, join(dir, 'alone'));
    expect(await architecture(runDir)).toEqual(alone.genotype);
    expect(lastValidation(runDir)).toBe(alone.mIoU);
  }, 300_000);

  it('a worker stopped by SIGTERM mid-trial puts the trial back without spending an attempt, and exits 143', async () => {
    redis = await startRedisServer();
    const dir = await mkdtemp(join(tmpdir(), 'adl-trials-'));
    const config = await searchConfig(dir);
    await writeFile(config, (await readFile(config, 'utf8')).replace('size: 4,', 'size: 8,'));
    const store = join(dir, 'store');
    expect((await runCaptured(['trials', 'start', '--config', config, '--seeds', '1', '--redis', redis.url, '--store', store])).code).toBe(0);
    const metrics = join(store, 'seed-0', 'metrics.jsonl');
    const first = startWorker(redis.url, store);
    workers.push(first);
    await until(() => existsSync(metrics) && readFileSync(metrics, 'utf8').includes('"type":"step"'), 'a first step');
    first.child.kill('SIGTERM');
    expect(await first.exited, first.stderr()).toBe(143);
    expect(first.stderr()).toContain('trial seed-0: interrupted with a checkpoint; back in the queue');
    expect((await status(redis.url))[0]).toMatchObject({ state: 'delayed', failures: 0 });
    const second = startWorker(redis.url, store);
    workers.push(second);
    await until(async () => (await status(redis!.url))[0]!.state === 'completed', 'the trial completed by the second worker');
    expect((await status(redis.url))[0]).toMatchObject({ starts: 2, failures: 0, stalls: 0 });
    expect(second.stderr()).toContain('trial seed-0: resuming from its checkpoint');
  }, 300_000);

  it('Redis restarted mid-run: the workers reconnect and every trial completes, each run once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-trials-'));
    await mkdir(join(dir, 'redis'));
    redis = await startRedisServer({ dataDir: join(dir, 'redis') });
    const config = await searchConfig(dir);
    await writeFile(config, (await readFile(config, 'utf8')).replace('size: 4,', 'size: 8,'));
    const store = join(dir, 'store');
    expect((await runCaptured(['trials', 'start', '--config', config, '--seeds', '3', '--redis', redis.url, '--store', store])).code).toBe(0);
    workers.push(startWorker(redis.url, store), startWorker(redis.url, store));
    const checkpoints = (id: string) => {
      const metrics = join(store, id, 'metrics.jsonl');
      return existsSync(metrics) ? readFileSync(metrics, 'utf8').split('"type":"checkpoint"').length - 1 : 0;
    };
    await until(() => checkpoints('seed-0') + checkpoints('seed-1') >= 2, 'a trial under way');
    await redis.restart();
    await until(async () => (await status(redis!.url)).filter((t) => t.state === 'completed').length === 3, 'three completed trials');
    for (const row of await status(redis.url)) expect(row).toMatchObject({ state: 'completed', failures: 0 });
    const log = workers.map((w) => w.stderr()).join('');
    for (const seed of [0, 1, 2]) expect(log.split(`trial seed-${seed}: starting`).length - 1).toBe(1);
  }, 300_000);

  it('bad input: unreachable Redis, an invalid config, an unknown sweep key, a store that is not writable: exit 2, nothing enqueued', async () => {
    redis = await startRedisServer();
    const dir = await mkdtemp(join(tmpdir(), 'adl-trials-'));
    const config = await searchConfig(dir);
    const store = join(dir, 'store');
    const nowhere = `redis://127.0.0.1:${redis.port + 1}`;
    for (const args of [
      ['trials', 'status', '--redis', nowhere],
      ['trials', 'start', '--config', config, '--seeds', '1', '--redis', nowhere, '--store', store],
      ['worker', '--redis', nowhere, '--store', store],
    ]) {
      const r = await runCaptured(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^autodeeplab: error: cannot reach Redis at ${nowhere.replace(/\./g, '\\.')}: connect ECONNREFUSED`));
    }
    const invalid = join(dir, 'invalid.yaml');
    await writeFile(invalid, (await readFile(config, 'utf8')).replace('layers: 2', 'layers: 0'));
    const rejected = [
      await runCaptured(['trials', 'start', '--config', invalid, '--seeds', '2', '--redis', redis.url, '--store', store]),
      await runCaptured(['trials', 'start', '--config', config, '--seeds', '2', '--sweep', 'search.noSuchField=1,2', '--redis', redis.url, '--store', store]),
      await runCaptured(['trials', 'start', '--config', config, '--seeds', '2', '--sweep', 'seed=1,2', '--redis', redis.url, '--store', store]),
      await runCaptured(['trials', 'start', '--config', config, '--seeds', '2', '--redis', redis.url, '--store', '/proc/version/store']),
    ];
    expect(rejected.map((r) => r.code)).toEqual([2, 2, 2, 2]);
    expect(rejected[0]!.stderr).toMatch(/^autodeeplab: error: .*invalid\.yaml.*searchSpace\.layers/);
    expect(rejected[1]!.stderr).toMatch(/^autodeeplab: error: --sweep search\.noSuchField=1 .*noSuchField/);
    expect(rejected[2]!.stderr).toMatch(/--sweep seed: not sweepable \(use --seeds\)/);
    expect(rejected[3]!.stderr).toMatch(/--store \/proc\/version\/store: not a writable directory/);
    for (const r of rejected) expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(await status(redis.url)).toEqual([]);
  });
});
