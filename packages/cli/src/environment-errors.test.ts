import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { classifyError, EXIT_FAILURE, EXIT_USAGE } from './errors.js';
import { runCaptured } from './testing.js';

/**
 * A disk that fills up: once `fullAfterManifests` checkpoint manifests are written, every write into a
 * checkpoint directory fails with ENOSPC (through a file handle, which names no path, as Node's does).
 */
const disk = vi.hoisted(() => ({ manifests: 0, fullAfterManifests: Infinity }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof fs.open = async (path, ...rest) => {
    const handle = await fs.open(path, ...rest);
    const name = String(path);
    if (!name.includes(`${sep}checkpoint${sep}`)) return handle;
    if (disk.manifests >= disk.fullAfterManifests) {
      const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
      return Object.assign(Object.create(Object.getPrototypeOf(handle) as object) as typeof handle, handle, {
        writeFile: () => Promise.reject(enospc),
        close: () => handle.close(),
      });
    }
    if (name.includes('.model.json.')) disk.manifests++;
    return handle;
  };
  return { ...fs, open, default: { ...fs, open } };
});

const TINY_SEARCH = [
  'dataset: {kind: synthetic, size: 24, height: 33, width: 33, numClasses: 3}',
  'searchSpace: {layers: 2, blocks: 2, filterMultiplier: 2, scales: [4, 8]}',
  'search: {epochs: 2, archStartEpoch: 1, checkpointEvery: 0}',
  'data: {batchSize: 2}',
].join('\n');

describe('environment faults: one clear line, no hang', () => {
  it('a run directory under /proc fails at once naming the directory that refused (Node’s recursive mkdir spins there)', async () => {
    const started = performance.now();
    const r = await runCaptured(['search', '--dataset', 'synthetic', '--epochs', '1', '--run-dir', '/proc/adl-no-such/run', '--backend', 'cpu']);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain('run directory /proc/adl-no-such/run: its file system does not accept new directories');
    expect(r.stderr).toContain('(at /proc/adl-no-such)');
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it('a full disk mid-run names the file, the step and the last good checkpoint, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adl-cli-'));
    const config = join(dir, 'search.yaml');
    writeFileSync(config, TINY_SEARCH);
    const run = join(dir, 'run');
    disk.manifests = 0;
    disk.fullAfterManifests = 1;
    try {
      const r = await runCaptured(['search', '--config', config, '--run-dir', run, '--backend', 'cpu'], { AUTODEEPLAB_LOG_INTERVAL_MS: '0' });
      expect(r.code).toBe(EXIT_FAILURE);
      const line = r.stderr.split('\n').find((l) => l.startsWith('autodeeplab: failed:'));
      expect(line).toMatch(new RegExp(`^autodeeplab: failed: ${run}/checkpoint/weights-[0-9a-f]+\\.bin: no space left on the device \\(ENOSPC\\)`));
      expect(line).toContain(`the run stopped at step 12; the last good checkpoint is ${run}/checkpoint`);
      expect(line).toContain(`free some space, then continue with autodeeplab search --resume ${run}`);
      // The run's log ends with the same line.
      expect(readFileSync(join(run, 'log.txt'), 'utf8').trimEnd().split('\n').at(-1)).toBe(line);
      // The checkpoint of epoch 1 is intact.
      expect(JSON.parse(readFileSync(join(run, 'checkpoint', 'model.json'), 'utf8'))).toMatchObject({ metadata: { step: 6 } });
    } finally {
      disk.fullAfterManifests = Infinity;
    }
  });

  it('a dataset file whose name is not UTF-8 is named with its bytes escaped (exit 2)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'adl-cli-'));
    mkdirSync(join(root, 'images'));
    mkdirSync(join(root, 'masks'));
    writeFileSync(join(root, 'classes.json'), JSON.stringify({ classes: ['background', 'cat'] }));
    writeFileSync(Buffer.concat([Buffer.from(`${root}/images/street-`), Buffer.from([0xe9, 0x1b]), Buffer.from('.png')]), 'x');
    const r = await runCaptured(['search', '--dataset', 'folder', '--data-root', root, '--run-dir', join(root, 'run'), '--backend', 'cpu']);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toBe(
      `autodeeplab: error: ${root}/images/street-\\xe9\\x1b.png: the file name is not valid UTF-8, so it cannot be read by name; rename it (e.g. with convmv or rename)\n`,
    );
  });
});

describe('classifyError: file system errors in words', () => {
  const fsError = (code: string, path?: string) => Object.assign(new Error(`${code}: something, write`), { code, ...(path ? { path } : {}) });

  it('a full disk or quota is the machine’s (exit 1); a read-only or denied place the user’s (exit 2)', () => {
    expect(classifyError(fsError('ENOSPC', '/r/m.json'))).toEqual({ code: EXIT_FAILURE, message: '/r/m.json: no space left on the device (ENOSPC)' });
    expect(classifyError(fsError('EDQUOT', '/r/m.json'))).toEqual({ code: EXIT_FAILURE, message: '/r/m.json: the disk quota is exhausted (EDQUOT)' });
    expect(classifyError(fsError('EROFS', '/r/m.json'))).toEqual({ code: EXIT_USAGE, message: '/r/m.json: the file system is read-only' });
    expect(classifyError(fsError('EPERM', '/r/m.json'))).toEqual({ code: EXIT_USAGE, message: '/r/m.json: operation not permitted' });
    expect(classifyError(fsError('ENOSPC'))).toEqual({ code: EXIT_FAILURE, message: 'no space left on the device (ENOSPC): ENOSPC: something, write' });
  });

  it('a path that is not valid UTF-8 (bytes) is shown with its odd bytes escaped', () => {
    const path = Buffer.concat([Buffer.from('/data/img-'), Buffer.from([0xff, 0x1b]), Buffer.from('.png')]);
    expect(classifyError(Object.assign(new Error('ENOENT'), { code: 'ENOENT', path })).message).toBe('/data/img-\\xff\\x1b.png: no such file or directory');
  });
});
