import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import type { RunEvent } from './events.js';
import { search } from './search.js';
import { killFixture } from './testing/kill-fixture.js';
import { maxAbsDifference, snapshot } from './testing/tiny.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  root = await mkdtemp(join(tmpdir(), 'optim-kill-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Starts the child search and SIGKILLs it as soon as it reports a checkpoint at or after `afterStep`. */
function runAndKill(runDir: string, afterStep: number): Promise<{ killedAfter: RunEvent[]; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/testing/search-child.ts', runDir], { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] });
    const seen: RunEvent[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const event = JSON.parse(line) as RunEvent;
      seen.push(event);
      if (event.type === 'checkpoint' && event.step >= afterStep) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited with code ${code} before it was killed:\n${stderr}`));
      else resolve({ killedAfter: seen, signal });
    });
  });
}

describe('SIGKILL during a search', () => {
  it('resumes from the last checkpoint to the same end as an uninterrupted run', async () => {
    const dir = join(root, 'killed');
    const { killedAfter, signal } = await runAndKill(dir, 3);
    expect(signal).toBe('SIGKILL');
    const lastStep = Math.max(...killedAfter.filter((e) => e.type === 'step').map((e) => e.step));
    expect(lastStep).toBeLessThan(12);

    const resumed = killFixture();
    const events: RunEvent[] = [];
    for await (const e of search({ ...resumed, runDir: dir, resume: true })) events.push(e);
    const start = events[0];
    expect(start?.type).toBe('start');
    const from = start?.type === 'start' ? start.resumedFrom!.step : -1;
    expect(from).toBeGreaterThanOrEqual(3);
    expect(from).toBeLessThanOrEqual(lastStep);
    expect(events.at(-1)).toMatchObject({ type: 'done', step: 12 });

    const reference = killFixture();
    for await (const e of search({ ...reference, runDir: join(root, 'reference') })) void e;
    const a = snapshot(reference.model);
    const b = snapshot(resumed.model);
    for (const [path, values] of a) expect(maxAbsDifference(values, b.get(path)!), path).toBeLessThanOrEqual(1e-6);

    // The metrics log survived the kill line by line and continues after the resume.
    const lines = (await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent);
    expect(lines.filter((e) => e.type === 'start')).toHaveLength(2);
    expect(lines.at(-1)?.type).toBe('done');
    // One line per step: what was logged past the checkpoint before the kill was cut on resume.
    expect(lines.filter((e) => e.type === 'step').map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    reference.model.dispose();
    resumed.model.dispose();
  });
});
