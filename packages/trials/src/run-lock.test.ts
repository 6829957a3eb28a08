import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearAbandonedRunLock } from './run-lock.js';

async function runDirLockedBy(holder: { pid: number; host: string }): Promise<{ runDir: string; lock: string }> {
  const runDir = await mkdtemp(join(tmpdir(), 'adl-trial-lock-'));
  const lock = join(runDir, '.lock');
  await writeFile(lock, JSON.stringify({ ...holder, since: new Date().toISOString() }));
  return { runDir, lock };
}

describe('clearAbandonedRunLock', () => {
  it("removes another machine's lock when the queue took the trial over, and only then", async () => {
    const taken = await runDirLockedBy({ pid: 1234, host: 'a-machine-that-died' });
    await clearAbandonedRunLock(taken.runDir, true);
    expect(existsSync(taken.lock)).toBe(false);
    const fresh = await runDirLockedBy({ pid: 1234, host: 'a-machine-that-died' });
    await clearAbandonedRunLock(fresh.runDir, false);
    expect(existsSync(fresh.lock)).toBe(true);
  });

  it('refuses (a transient error) while a live process on this machine holds the run', async () => {
    const live = await runDirLockedBy({ pid: process.ppid, host: hostname() });
    await expect(clearAbandonedRunLock(live.runDir, true)).rejects.toThrow(/still being run by process/);
    expect(existsSync(live.lock)).toBe(true);
  });

  it("leaves this machine's dead holders to the search's own stale-lock check", async () => {
    const dead = await runDirLockedBy({ pid: 2 ** 22 + 17, host: hostname() });
    await clearAbandonedRunLock(dead.runDir, true);
    expect(existsSync(dead.lock)).toBe(true);
  });
});
