import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

// A full disk, simulated: the next handle write of a file named `full-*` fails with ENOSPC.
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof fs.open = async (path, ...rest) => {
    const handle = await fs.open(path, ...rest);
    if (!String(path).includes('.full-')) return handle;
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    return Object.assign(Object.create(Object.getPrototypeOf(handle) as object) as typeof handle, handle, {
      writeFile: () => Promise.reject(enospc),
      close: () => handle.close(),
      sync: () => handle.sync(),
    });
  };
  return { ...fs, open, default: { ...fs, open } };
});

const { FileWriteError, makeDirectory, writeFileAtomic } = await import('./atomic.js');

describe('makeDirectory', () => {
  it('makes the missing directories of a path, and accepts one that exists', async () => {
    const root = await mkdtemp(join(tmpdir(), 'adl-atomic-'));
    const deep = join(root, 'a', 'b', 'c');
    await makeDirectory(deep);
    await makeDirectory(deep);
    expect(await readdir(join(root, 'a', 'b'))).toEqual(['c']);
  });

  it('fails at once under a file system that refuses new directories (Node’s recursive mkdir spins there)', async () => {
    const started = Date.now();
    await expect(makeDirectory('/proc/adl-no-such/run')).rejects.toMatchObject({ code: 'ENOENT', path: '/proc/adl-no-such' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('says EEXIST when the path is a file and ENOTDIR when a part of it is', async () => {
    const root = await mkdtemp(join(tmpdir(), 'adl-atomic-'));
    const file = join(root, 'file');
    await writeFile(file, 'x');
    await expect(makeDirectory(file)).rejects.toMatchObject({ code: 'EEXIST', path: file });
    await expect(makeDirectory(join(file, 'sub', 'dir'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('writeFileAtomic', () => {
  it('writes the file and leaves no temporary file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'adl-atomic-'));
    const path = join(root, 'sub', 'data.txt');
    await writeFileAtomic(path, 'hello');
    expect(await readFile(path, 'utf8')).toBe('hello');
    expect(await readdir(join(root, 'sub'))).toEqual(['data.txt']);
  });

  it('a full disk names the file, keeps the code ENOSPC, and leaves the old file and no temporary file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'adl-atomic-'));
    const path = join(root, 'full-state.json');
    await writeFile(path, 'old');
    const error = await writeFileAtomic(path, 'new').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileWriteError);
    expect(error).toMatchObject({ code: 'ENOSPC', path, message: `${path}: ENOSPC: no space left on device, write` });
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await readdir(root)).toEqual(['full-state.json']);
  });
});
