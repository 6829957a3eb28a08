import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserInputError } from '@autodeeplab/core';
import { LOCK_FILE } from './run-dir.js';

/** Who holds a run directory: written into its lock file. */
interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

/** A held run lock; `release` removes the lock file (idempotent). */
export interface RunLock {
  readonly path: string;
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as { code?: string }).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const holder = JSON.parse(await readFile(path, 'utf8')) as Partial<LockHolder>;
    return typeof holder.pid === 'number' && typeof holder.host === 'string' ? (holder as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the run directory for this process, so that two runs never write one directory's
 * checkpoints and metrics at once. The lock file (created exclusively) names the holder's pid and
 * host; a lock whose holder on this host is gone (killed) is stale and taken over. A live holder,
 * or one on another host (a shared file system: its pid cannot be checked from here), is refused
 * with a UserInputError that names it and how to clear it.
 */
export async function acquireRunLock(runDir: string): Promise<RunLock> {
  await mkdir(runDir, { recursive: true });
  const path = join(runDir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(`${JSON.stringify(me)}\n`);
      await file.close();
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          await unlink(path).catch(() => {});
        },
      };
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(path);
    const stale = holder === undefined || (holder.host === me.host && holder.pid !== me.pid && !isAlive(holder.pid));
    if (!stale) {
      throw new UserInputError(
        `${runDir} is in use by process ${holder.pid} on ${holder.host} (since ${holder.since}): ` +
          `wait for that run to end, or remove ${path} if it is gone`,
      );
    }
    await unlink(path).catch(() => {});
  }
  throw new UserInputError(`${runDir}: could not take its lock ${path} (another process took it at the same time)`);
}
