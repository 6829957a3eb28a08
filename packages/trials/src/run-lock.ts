import { readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LOCK_FILE } from '@autodeeplab/optim';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * Before a worker runs a trial another worker had started: the run directory's lock may name a
 * process on another machine (the search cannot check those and would refuse the directory). The
 * queue took the trial from that worker because it stopped renewing its lock, so its run lock is
 * abandoned and is removed. A holder alive on this machine is still running: a transient error, the
 * trial is retried later.
 */
export async function clearAbandonedRunLock(runDir: string, takenOver: boolean): Promise<void> {
  const path = join(runDir, LOCK_FILE);
  let holder: { pid?: unknown; host?: unknown };
  try {
    holder = JSON.parse(await readFile(path, 'utf8')) as { pid?: unknown; host?: unknown };
  } catch {
    return;
  }
  if (holder.host === hostname()) {
    if (typeof holder.pid === 'number' && holder.pid !== process.pid && isAlive(holder.pid)) {
      throw new Error(`${runDir} is still being run by process ${holder.pid} (it lost its trial on the queue: raise --stalled-after); retried later`);
    }
    return;
  }
  if (takenOver) await unlink(path).catch(() => {});
}
