import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, isCheckpoint } from '@autodeeplab/core';
import type { RunEvent } from './events.js';
import { memoryBatchSource } from './memory-source.js';
import { NonFiniteStateError, readRunState, saveRunCheckpoint, type RunState } from './run-checkpoint.js';
import { SGD } from './optimizers.js';
import { train } from './train.js';
import { TinySearchModel, colourSamples, maxAbsDifference, snapshot } from './testing/tiny.js';

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  root = await mkdtemp(join(tmpdir(), 'optim-train-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
let runs = 0;
const runDir = () => join(root, `run${runs++}`);

const data = () => ({
  train: memoryBatchSource(colourSamples(8, { seed: 4, ignoreFraction: 0.1 }), { batchSize: 2, seed: 5 }),
  val: memoryBatchSource(colourSamples(6, { seed: 6 }), { batchSize: 3, shuffle: false }),
});

async function collect(events: AsyncIterable<RunEvent>, stop?: (e: RunEvent) => boolean): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for await (const e of events) {
    out.push(e);
    if (stop?.(e)) break;
  }
  return out;
}

describe('train loop', () => {
  it('follows the poly schedule by step, validates, and stops after `steps` updates', async () => {
    const model = new TinySearchModel('train-sched');
    const events = await collect(train({ model, data: data(), numClasses: 3, runDir: runDir(), config: { steps: 10, lr: 0.05, checkpointEvery: 0 } }));
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    steps.forEach((e, t) => e.type === 'step' && expect(e.learningRate.weights).toBeCloseTo(0.05 * (1 - t / 10) ** 0.9, 12));
    // 4 batches per epoch → 3 epochs, the last one partial.
    expect(events.filter((e) => e.type === 'epoch').map((e) => e.step)).toEqual([4, 8, 10]);
    expect(events.filter((e) => e.type === 'validation')).toHaveLength(3);
    expect(events.at(-1)).toMatchObject({ type: 'done', step: 10, interrupted: false });
    model.dispose();
  });

  it('reaches a clearly better validation mIoU than chance on the colour task', async () => {
    const model = new TinySearchModel('train-learn');
    const events = await collect(
      train({ model, data: data(), numClasses: 3, runDir: runDir(), config: { epochs: 8, lr: 0.1, checkpointEvery: 0, validateEvery: 8 } }),
    );
    const validation = events.find((e) => e.type === 'validation');
    // Chance (uniform guessing over 3 classes) gives an IoU around 0.2.
    expect(validation?.type === 'validation' && validation.mIoU).toBeGreaterThan(0.5);
    model.dispose();
  });

  it('resumes exactly', async () => {
    const config = { steps: 10, checkpointEvery: 3, validateEvery: 0 };
    const full = new TinySearchModel('train-full', { seed: 8 });
    await collect(train({ model: full, data: data(), runDir: runDir(), config }));
    const dir = runDir();
    const first = new TinySearchModel('train-first', { seed: 8 });
    await collect(train({ model: first, data: data(), runDir: dir, config }), (e) => e.type === 'checkpoint' && e.step === 6);
    first.dispose();
    const resumed = new TinySearchModel('train-resumed', { seed: 1 });
    await collect(train({ model: resumed, data: data(), runDir: dir, config, resume: true }));
    const a = snapshot(full);
    const b = snapshot(resumed);
    for (const [path, values] of a) expect(maxAbsDifference(values, b.get(path)!), path).toBeLessThanOrEqual(1e-6);
    full.dispose();
    resumed.dispose();
  });

  it('keeps the last k step-stamped checkpoints besides the latest', async () => {
    const dir = runDir();
    const model = new TinySearchModel('train-keep');
    await collect(train({ model, data: data(), runDir: dir, config: { steps: 8, checkpointEvery: 1, keepLast: 3, validateEvery: 0 } }));
    const kept = (await readdir(join(dir, 'checkpoints'))).sort();
    expect(kept).toEqual(['step-000000006', 'step-000000007', 'step-000000008']);
    expect(await isCheckpoint(join(dir, 'checkpoints', kept[0]!))).toBe(true);
    expect((await readRunState(join(dir, 'checkpoint'))).step).toBe(8);
    expect((await readRunState(join(dir, 'checkpoints', kept[0]!))).next).toEqual({ epoch: 1, index: 2 });
    model.dispose();
  });
});

describe('saveRunCheckpoint', () => {
  it('refuses to write NaN weights and leaves the previous checkpoint in place', async () => {
    const dir = runDir();
    const model = new TinySearchModel('ckpt-nan');
    const optimizer = new SGD(new Map([['alpha', model.alphaLogits]]), { learningRate: 0.1, momentum: 0.9 }, 'ckpt-nan/sgd');
    const state: RunState = {
      format: 'autodeeplab-run-state',
      version: 1,
      kind: 'train',
      step: 1,
      next: { epoch: 0, index: 1 },
      stepsPerEpoch: 4,
      totalSteps: 8,
      rng: [1, 2, 3, 4],
      config: {},
      createdAt: new Date().toISOString(),
    };
    await saveRunCheckpoint(dir, model, { weights: optimizer }, state);
    model.betaLogits.assign(tf.tensor1d([Number.NaN, 0]));
    await expect(saveRunCheckpoint(dir, model, { weights: optimizer }, { ...state, step: 2 })).rejects.toThrow(NonFiniteStateError);
    await expect(saveRunCheckpoint(dir, model, { weights: optimizer }, { ...state, step: 2 })).rejects.toThrow(/at step 2: non-finite values in model\/beta/);
    expect((await readRunState(join(dir, 'checkpoint'))).step).toBe(1);
    optimizer.dispose();
    model.dispose();
  });
});
