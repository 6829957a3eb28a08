import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_DIR, cli } from './helpers.js';

/**
 * Run control as schedulers exercise it: SIGTERM (Slurm, Docker, Kubernetes) or SIGINT (Ctrl-C) in
 * the middle of an epoch stops the run at the next step with a checkpoint and exits 143 / 130, and
 * `--resume` then reaches exactly the end of an uninterrupted run.
 */

interface MetricsLine {
  type: string;
  step: number;
  reason?: string;
  parameters?: Record<string, { values: number[] }>;
}

const readMetrics = (runDir: string): MetricsLine[] =>
  existsSync(join(runDir, 'metrics.jsonl'))
    ? readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as MetricsLine)
    : [];

/** Starts the CLI, sends `signal` once `runDir`'s metrics show `afterStep` steps, and waits for the exit. */
async function interrupt(args: string[], runDir: string, signal: NodeJS.Signals, afterStep: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: CLI_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let sentAt = 0;
  const poll = setInterval(() => {
    if (sentAt === 0 && readMetrics(runDir).some((e) => e.type === 'step' && e.step >= afterStep)) {
      sentAt = performance.now();
      child.kill(signal);
    }
  }, 20);
  const code = await exited;
  clearInterval(poll);
  return { code, stdout, stderr, secondsAfterSignal: (performance.now() - sentAt) / 1000, signalled: sentAt > 0 };
}

const lastArch = (runDir: string) =>
  readMetrics(runDir)
    .filter((e) => e.type === 'arch')
    .at(-1)?.parameters;

async function searchConfig(dir: string): Promise<string> {
  const config = join(dir, 'search.yaml');
  await writeFile(
    config,
    [
      'dataset: {kind: synthetic, size: 24, height: 33, width: 33, numClasses: 3}',
      'searchSpace: {layers: 2, blocks: 2, filterMultiplier: 2, scales: [4, 8]}',
      'search: {epochs: 2, archStartEpoch: 1, checkpointEvery: 0}',
      'data: {batchSize: 2}',
    ].join('\n'),
  );
  return config;
}

describe('SIGTERM and SIGINT stop a run with a checkpoint and a non-zero exit', () => {
  it('search: SIGTERM mid-epoch exits 143 with a checkpoint at the step reached; --resume ends as an uninterrupted run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-e2e-signals-'));
    const config = await searchConfig(dir);
    const stopped = join(dir, 'stopped');
    const run = await interrupt(['search', '--config', config, '--run-dir', stopped, '--json'], stopped, 'SIGTERM', 2);
    expect(run.signalled, run.stderr).toBe(true);
    expect(run.code, run.stderr).toBe(143);
    expect(run.secondsAfterSignal).toBeLessThan(10);
    const summary = JSON.parse(run.stdout) as { interrupted: boolean; stoppedBy: string; steps: number };
    expect(summary).toMatchObject({ interrupted: true, stoppedBy: 'SIGTERM' });
    expect(summary.steps).toBeGreaterThanOrEqual(2);
    expect(summary.steps).toBeLessThan(12); // 2 epochs × (12 trainA images / batch 2): stopped before the end
    const checkpoint = readMetrics(stopped).find((e) => e.type === 'checkpoint' && e.reason === 'interrupt');
    expect(checkpoint?.step).toBe(summary.steps);

    const resumed = await cli(['search', '--resume', stopped, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ interrupted: false, stoppedBy: null, steps: 12 });

    const whole = join(dir, 'whole');
    const uninterrupted = await cli(['search', '--config', config, '--run-dir', whole, '--json']);
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);
    expect(lastArch(stopped)).toBeDefined();
    expect(lastArch(stopped)).toEqual(lastArch(whole));
    // The genotypes are the same but for when they were written.
    const genotype = (runDir: string) => {
      const g = JSON.parse(readFileSync(join(runDir, 'genotype.json'), 'utf8')) as { search: { createdAt?: string } };
      delete g.search.createdAt;
      return g;
    };
    expect(genotype(stopped)).toEqual(genotype(whole));
  });

  it('search: SIGINT (Ctrl-C) exits 130 with a checkpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-e2e-signals-'));
    const config = await searchConfig(dir);
    const runDir = join(dir, 'run');
    const run = await interrupt(['search', '--config', config, '--run-dir', runDir], runDir, 'SIGINT', 1);
    expect(run.code, run.stderr).toBe(130);
    expect(run.stdout).toContain(`continue with: autodeeplab search --resume ${runDir}`);
    expect(readMetrics(runDir).some((e) => e.type === 'checkpoint' && e.reason === 'interrupt')).toBe(true);
  });

  it('train: SIGTERM exits 143 with a checkpoint, and --resume completes the run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-e2e-signals-'));
    const runDir = join(dir, 'train');
    const args = ['train', '--genotype', 'paper', '-F', '2', '--dataset', 'synthetic', '--set', 'dataset.size=16', '--set', 'dataset.height=33'];
    args.push('--set', 'dataset.width=33', '--set', 'dataset.numClasses=3', '--set', 'train.epochs=2', '--run-dir', runDir, '--json');
    const run = await interrupt(args, runDir, 'SIGTERM', 1);
    expect(run.code, run.stderr).toBe(143);
    expect(JSON.parse(run.stdout)).toMatchObject({ interrupted: true, stoppedBy: 'SIGTERM' });
    expect(readMetrics(runDir).some((e) => e.type === 'checkpoint' && e.reason === 'interrupt')).toBe(true);
    const resumed = await cli(['train', '--resume', runDir, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ interrupted: false, stoppedBy: null });
  });
});
