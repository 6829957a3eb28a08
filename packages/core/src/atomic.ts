import { open, readdir, rename, mkdir, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

let counter = 0;

/** Flushes a directory entry so that a rename inside it survives a crash. */
async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems do not support fsync on directories; the rename is still atomic.
  } finally {
    await handle.close();
  }
}

/**
 * Writes a file atomically: a temporary file beside it, fsync, then rename over the target. A crash
 * or kill at any point leaves either the old file or the new one, never a mix.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => {});
    throw error;
  }
  await handle.close();
  await rename(temp, path);
  await fsyncDirectory(dir);
}

/** `.name.<pid>.<n>.tmp`: the temporary files writeFileAtomic makes, with the writer's pid. */
const TEMP_FILE = /^\..+\.(\d+)\.\d+\.tmp$/;

/**
 * Removes the temporary files that writes killed half-way left in `dir` (not those of this process,
 * which may be in flight). For a directory only this process writes (a locked run directory): any
 * other process's temporary file there is abandoned. Returns the names removed.
 */
export async function removeAbandonedTempFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const abandoned = names.filter((name) => Number(TEMP_FILE.exec(name)?.[1] ?? process.pid) !== process.pid);
  await Promise.all(abandoned.map((name) => unlink(join(dir, name)).catch(() => {})));
  return abandoned;
}
