import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, symlink, writeFile, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { loadCheckpoint, requireTensor, saveCheckpoint } from './checkpoint.js';
import { disposeCheckpoint } from './checkpoint-format.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'adl-ckpt-'));
}

describe('checkpoints', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('round-trips tensors of every dtype and the metadata', async () => {
    const dir = await tempDir();
    const tensors = {
      'cell/alpha': tf.tensor2d([
        [0.5, -1.25],
        [3, 4],
      ]),
      step: tf.scalar(7, 'int32'),
      mask: tf.tensor1d([true, false, true], 'bool'),
    };
    await saveCheckpoint(dir, tensors, { epoch: 3, note: 'hello' });
    const loaded = await loadCheckpoint<{ epoch: number; note: string }>(dir);
    expect(loaded.metadata).toEqual({ epoch: 3, note: 'hello' });
    expect(loaded.tensors.get('cell/alpha')!.arraySync()).toEqual([
      [0.5, -1.25],
      [3, 4],
    ]);
    expect(loaded.tensors.get('step')!.dtype).toBe('int32');
    expect(loaded.tensors.get('step')!.arraySync()).toBe(7);
    expect(loaded.tensors.get('mask')!.dtype).toBe('bool');
    expect(loaded.tensors.get('mask')!.arraySync()).toEqual([1, 0, 1]);
    disposeCheckpoint(loaded);
    tf.dispose(Object.values(tensors));
  });

  it('is readable by tf.io.decodeWeights from the manifest alone', async () => {
    const dir = await tempDir();
    const w = tf.tensor3d([1, 2, 3, 4, 5, 6], [1, 2, 3]);
    await saveCheckpoint(dir, { w }, {});
    const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    const group = manifest.weightsManifest[0];
    const bytes = await readFile(join(dir, group.paths[0]));
    const decoded = tf.io.decodeWeights(new Uint8Array(bytes).buffer, group.weights);
    expect(decoded.w!.arraySync()).toEqual(w.arraySync());
    tf.dispose([w, decoded.w!]);
  });

  it('replaces the previous checkpoint and leaves one weights file', async () => {
    const dir = await tempDir();
    await saveCheckpoint(dir, { a: tf.scalar(1) }, { n: 1 });
    await saveCheckpoint(dir, { a: tf.scalar(2) }, { n: 2 });
    const files = (await readdir(dir)).filter((f) => f.endsWith('.bin'));
    expect(files).toHaveLength(1);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.tensors.get('a')!.arraySync()).toBe(2);
    expect(loaded.metadata).toEqual({ n: 2 });
    disposeCheckpoint(loaded);
  });

  it('fails clearly on a truncated weights file, a corrupt one, a truncated manifest and a missing tensor', async () => {
    const dir = await tempDir();
    await saveCheckpoint(dir, { a: tf.tensor1d([1, 2, 3, 4]) }, {});
    const bin = (await readdir(dir)).find((f) => f.endsWith('.bin'))!;
    const original = await readFile(join(dir, bin));

    await truncate(join(dir, bin), 5);
    await expect(loadCheckpoint(dir)).rejects.toThrow(new RegExp(`${bin}: has 5 bytes, expected 16`));

    const corrupt = Buffer.from(original);
    corrupt[3] = corrupt[3]! ^ 0xff;
    await writeFile(join(dir, bin), corrupt);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/checksum mismatch/);

    await writeFile(join(dir, bin), original);
    const manifest = await readFile(join(dir, 'model.json'), 'utf8');
    await writeFile(join(dir, 'model.json'), manifest.slice(0, manifest.length / 2));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/model\.json: not valid JSON.*truncated/);

    await writeFile(join(dir, 'model.json'), manifest);
    const loaded = await loadCheckpoint(dir);
    expect(() => requireTensor(loaded, dir, 'b')).toThrow(/model\.json: missing tensor 'b'/);
    expect(() => requireTensor(loaded, dir, 'a', [2, 2])).toThrow(/tensor 'a' has shape \[4\], expected \[2,2\]/);
    disposeCheckpoint(loaded);
    await expect(loadCheckpoint(join(dir, 'nowhere'))).rejects.toThrow(/nowhere\/model\.json: no checkpoint here/);
  });

  it('reads weights only from a regular file inside the checkpoint directory', async () => {
    const dir = join(await tempDir(), 'escape');
    await saveCheckpoint(dir, { w: tf.ones([4]) }, {});
    const manifestPath = join(dir, 'model.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { weightsManifest: { paths: string[] }[] };
    const original = manifest.weightsManifest[0]!.paths[0]!;
    for (const path of ['../../../etc/passwd', '/etc/passwd', 'sub/weights.bin', '..']) {
      manifest.weightsManifest[0]!.paths[0] = path;
      await writeFile(manifestPath, JSON.stringify(manifest));
      await expect(loadCheckpoint(dir)).rejects.toThrow(/is not a file name inside the checkpoint directory/);
    }
    manifest.weightsManifest[0]!.paths[0] = 'weights-zero.bin';
    await writeFile(manifestPath, JSON.stringify(manifest));
    await symlink('/dev/zero', join(dir, 'weights-zero.bin'));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/weights-zero\.bin: is not a regular file/);
    manifest.weightsManifest[0]!.paths[0] = original;
    await writeFile(manifestPath, JSON.stringify(manifest));
    const loaded = await loadCheckpoint(dir);
    expect(Array.from(loaded.tensors.get('w')!.dataSync())).toEqual([1, 1, 1, 1]);
    disposeCheckpoint(loaded);
  });

  it('survives SIGKILL during repeated saves: the last good checkpoint stays loadable', async () => {
    const dir = await tempDir();
    const script = fileURLToPath(new URL('./testing/save-forever.ts', import.meta.url));
    // The child saves ~4 MB checkpoints in a loop; once it has saved a few, we kill it mid-way.
    for (let round = 0; round < 3; round++) {
      const child = spawn('node', ['--import', 'tsx', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let saved = 0;
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          saved += chunk
            .toString()
            .split('\n')
            .filter((l) => l.startsWith('saved')).length;
          if (saved >= 2) {
            // Kill at a moment that falls inside a later save with high probability.
            setTimeout(() => child.kill('SIGKILL'), 5 + 20 * round);
            resolve();
          }
        });
      });
      await once(child, 'exit');
      expect(child.signalCode).toBe('SIGKILL');
      const loaded = await loadCheckpoint<{ i: number }>(dir);
      const values = loaded.tensors.get('w')!.dataSync();
      // Every element of checkpoint i equals i: a mix of two saves would show two values.
      expect(values.every((v) => v === loaded.metadata.i)).toBe(true);
      disposeCheckpoint(loaded);
    }
  });
});
