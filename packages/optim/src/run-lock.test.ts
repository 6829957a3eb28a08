import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, UserInputError } from '@autodeeplab/core';
import { memoryBatchSource } from './memory-source.js';
import { LOCK_FILE, METRICS_FILE } from './run-dir.js';
import { acquireRunLock } from './run-lock.js';
import { search } from './search.js';
import { TinySearchModel, colourSamples } from './testing/tiny.js';

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  root = await mkdtemp(join(tmpdir(), 'optim-lock-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A pid that no process has any more: a child that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

const sources = () => ({
  trainA: memoryBatchSource(colourSamples(4, { seed: 1 }), { batchSize: 2, seed: 11 }),
  trainB: memoryBatchSource(colourSamples(4, { seed: 2 }), { batchSize: 2, seed: 12 }),
});

describe('run lock', () => {
  it('names its holder, refuses a second writer while held, and is gone once released', async () => {
    const dir = join(root, 'held');
    const lock = await acquireRunLock(dir);
    const holder = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'));
    expect(holder).toMatchObject({ pid: process.pid, host: hostname() });
    const second = acquireRunLock(dir);
    await expect(second).rejects.toBeInstanceOf(UserInputError);
    await expect(acquireRunLock(dir)).rejects.toThrow(new RegExp(`in use by process ${process.pid} on `));
    await lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    await (await acquireRunLock(dir)).release();
  });

  it('takes over a stale lock (its holder on this host is gone), but not one held on another host', async () => {
    const dir = join(root, 'stale');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname(), since: 'earlier' }));
    const lock = await acquireRunLock(dir);
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    await lock.release();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: 'another-host', since: 'earlier' }));
    await expect(acquireRunLock(dir)).rejects.toThrow(/on another-host .*remove .*\.lock if it is gone/);
  });

  it('a search refuses a run directory another run holds, writing nothing there; and releases its own', async () => {
    const dir = join(root, 'search');
    const model = new TinySearchModel('lock');
    const lock = await acquireRunLock(dir);
    const events = search({ model, data: sources(), runDir: dir, config: { epochs: 1, archStartEpoch: 0 } });
    await expect(events[Symbol.asyncIterator]().next()).rejects.toThrow(/is in use by process/);
    expect(existsSync(join(dir, METRICS_FILE))).toBe(false);
    await lock.release();
    for await (const _ of search({ model, data: sources(), runDir: dir, config: { epochs: 1, archStartEpoch: 0 } }));
    expect(existsSync(join(dir, METRICS_FILE))).toBe(true);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    model.dispose();
  });
});
