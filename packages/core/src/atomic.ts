import { open, readdir, rename, mkdir, stat, unlink } from 'node:fs/promises';
import { dirname, basename, join, resolve } from 'node:path';

let counter = 0;

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A file system error with the path it happened on. Writes through a file handle (`handle.writeFile`,
 * `sync`) fail without one (ENOSPC, EDQUOT, EIO), so the message would not say which file.
 */
export class FileWriteError extends Error {
  override readonly name = 'FileWriteError';
  readonly code: string | undefined;
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.code = errorCode(cause);
  }
}

/** The error with `path` attached when it has none (a handle's write), unchanged otherwise. */
function withPath(error: unknown, path: string): unknown {
  if (error instanceof FileWriteError) return error;
  if (typeof (error as { path?: unknown } | null)?.path === 'string') return error;
  return new FileWriteError(path, error);
}

/** The file's type, or undefined when nothing is there. */
async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * `mkdir -p` that always ends. Node's recursive mkdir retries for ever when a parent exists but
 * refuses new entries with ENOENT (procfs, `/proc/x`); here the missing directories are made one at a
 * time below the nearest one that exists, and the first refusal is thrown with its path.
 */
export async function makeDirectory(path: string): Promise<void> {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    const info = await statOrUndefined(current);
    if (info) {
      if (info.isDirectory()) break;
      // As mkdir says it: the directory itself is a file (EEXIST), or a part of its path is (ENOTDIR).
      const code = missing.length === 0 ? 'EEXIST' : 'ENOTDIR';
      throw Object.assign(new Error(`${code}: not a directory, mkdir '${current}'`), { code, path: current, syscall: 'mkdir' });
    }
    const parent = dirname(current);
    missing.push(current);
    if (parent === current) break;
    current = parent;
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
    } catch (error) {
      // Made meanwhile by another writer: fine when it is a directory.
      if (errorCode(error) === 'EEXIST' && (await statOrUndefined(dir))?.isDirectory()) continue;
      throw error;
    }
  }
}

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
 * or kill at any point leaves either the old file or the new one, never a mix. A failure (a full
 * disk: ENOSPC, EDQUOT) names `path` and keeps the error's code.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  await makeDirectory(dir);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw withPath(error, path);
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
