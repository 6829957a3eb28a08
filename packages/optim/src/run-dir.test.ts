import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileFormatError, UserInputError, initBackend, saveCheckpoint } from '@autodeeplab/core';
import * as tf from '@tensorflow/tfjs';
import { memoryBatchSource } from './memory-source.js';
import { CHECKPOINT_DIR, HISTORY_DIR, epochGenotypeFile, historyCheckpointName, locateCheckpoint, readSearchArchitecture } from './run-dir.js';
import { search } from './search.js';
import { TinySearchModel, colourSamples } from './testing/tiny.js';

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  root = await mkdtemp(join(tmpdir(), 'optim-run-dir-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the run directory', () => {
  it('names epoch genotypes and step checkpoints so that they sort in order', () => {
    expect(epochGenotypeFile(7)).toBe('epoch-007.json');
    expect(historyCheckpointName(200)).toBe('step-000000200');
    const names = [1, 10, 2, 100].map(historyCheckpointName);
    expect([...names].sort()).toEqual([1, 2, 10, 100].map(historyCheckpointName));
  });

  it("reads a search run's α and β from the run, its checkpoint and its step checkpoints", async () => {
    const runDir = join(root, 'search');
    const model = new TinySearchModel('run-dir', { seed: 2 });
    const data = {
      trainA: memoryBatchSource(colourSamples(4, { seed: 1 }), { batchSize: 2, seed: 1 }),
      trainB: memoryBatchSource(colourSamples(4, { seed: 2 }), { batchSize: 2, seed: 2 }),
    };
    const config = { epochs: 2, archStartEpoch: 0, checkpointEvery: 1, keepLast: 2, validateEvery: 0 };
    for await (const event of search({ model, data, runDir, config })) void event;
    // The oracle: the model's own α and β after the run (the latest checkpoint is the final one).
    const alpha = (await model.alphaLogits.array()) as number[][];
    const beta = (await model.betaLogits.array()) as number[];
    const latest = await readSearchArchitecture(runDir);
    expect(latest).toMatchObject({ alpha, beta, runDir, checkpointDir: join(runDir, CHECKPOINT_DIR), epoch: 2, step: 4 });
    expect(await readSearchArchitecture(join(runDir, CHECKPOINT_DIR))).toMatchObject({ alpha, beta, runDir });

    const kept = (await readdir(join(runDir, HISTORY_DIR))).sort();
    expect(kept).toEqual([historyCheckpointName(3), historyCheckpointName(4)]);
    const older = await readSearchArchitecture(join(runDir, HISTORY_DIR, kept[0]!));
    expect(older).toMatchObject({ runDir, step: 3 });
    expect(older.alpha).not.toEqual(alpha);
    model.dispose();
  });

  it('says what is missing: no checkpoint, or a checkpoint without α and β', async () => {
    await expect(locateCheckpoint(join(root, 'nothing'))).rejects.toThrow(UserInputError);
    const dir = join(root, 'no-arch');
    const weight = tf.zeros([2, 2]);
    await saveCheckpoint(join(dir, CHECKPOINT_DIR), new Map([['model/w', weight]]), { step: 1 });
    weight.dispose();
    await expect(readSearchArchitecture(dir)).rejects.toThrow(FileFormatError);
    await expect(readSearchArchitecture(dir)).rejects.toThrow(/model\/alpha/);
  });
});
