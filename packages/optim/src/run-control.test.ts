import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeCheckpoint, initBackend, loadCheckpoint } from '@autodeeplab/core';
import type { RunEvent } from './events.js';
import { memoryBatchSource } from './memory-source.js';
import { readRunState } from './run-checkpoint.js';
import { BEST_CHECKPOINT_DIR, CHECKPOINT_DIR, MODEL_PREFIX, locateCheckpoint } from './run-dir.js';
import { train, type TrainConfigInput } from './train.js';
import { TinySearchModel, colourSamples, maxAbsDifference, snapshot } from './testing/tiny.js';
import type { BatchSource } from './types.js';

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  root = await mkdtemp(join(tmpdir(), 'optim-run-control-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
let runs = 0;
const runDir = () => join(root, `run${runs++}`);

// 8 samples in batches of 2: 4 steps per epoch.
const trainData = () => memoryBatchSource(colourSamples(8, { seed: 4 }), { batchSize: 2, seed: 5 });
const valData = () => memoryBatchSource(colourSamples(6, { seed: 6 }), { batchSize: 3, shuffle: false });

async function collect(events: AsyncIterable<RunEvent>, stop?: (e: RunEvent) => boolean): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for await (const e of events) {
    out.push(e);
    if (stop?.(e)) break;
  }
  return out;
}

async function metricsLines(dir: string): Promise<RunEvent[]> {
  const text = await readFile(join(dir, 'metrics.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent);
}

/**
 * Validation data whose labels are shifted by one class from the `from`-th pass on: the mIoU of the
 * later validations collapses, so the best epoch is an early one, whatever the training does.
 */
function worseningFrom(source: BatchSource, from: number): BatchSource {
  let passes = 0;
  return {
    batchesPerEpoch: source.batchesPerEpoch,
    async *epoch(epoch, start) {
      const pass = passes++;
      for await (const batch of source.epoch(epoch, start)) {
        yield pass < from ? batch : { ...batch, labels: batch.labels.map((l) => (l === 255 ? l : (l + 1) % 3)) };
      }
    },
  };
}

describe('keepBest', () => {
  it('keeps the best validation in checkpoint-best while checkpoint is the last', async () => {
    const dir = runDir();
    const model = new TinySearchModel('best', { seed: 8 });
    const config: TrainConfigInput = { epochs: 4, lr: 0.1, checkpointEvery: 0, validateEvery: 1, keepBest: true };
    const atEpochEnd = new Map<number, Map<string, Float32Array>>();
    const events = await collect(train({ model, data: { train: trainData(), val: worseningFrom(valData(), 2) }, numClasses: 3, runDir: dir, config }), (e) => {
      if (e.type === 'checkpoint') atEpochEnd.set(e.step, snapshot(model));
      return false;
    });
    const validations = events.filter((e) => e.type === 'validation');
    expect(validations).toHaveLength(4);
    const best = validations.reduce((a, b) => (b.mIoU > a.mIoU ? b : a));
    // The oracle's premise: the best epoch is not the last.
    expect(best.step).toBeLessThan(16);
    const checkpoints = events.filter((e) => e.type === 'checkpoint');
    expect(checkpoints.filter((e) => e.best).map((e) => e.step)).toContain(best.step);
    expect(checkpoints.find((e) => e.step === 16)?.best).toBeUndefined();

    const bestDir = join(dir, BEST_CHECKPOINT_DIR);
    expect((await readRunState(bestDir)).best).toEqual({ mIoU: best.mIoU, epoch: best.epoch, step: best.step });
    expect((await readRunState(bestDir)).step).toBe(best.step);
    expect((await readRunState(join(dir, CHECKPOINT_DIR))).step).toBe(16);
    expect(await locateCheckpoint(bestDir)).toEqual({ checkpointDir: bestDir, runDir: dir });
    const saved = await loadCheckpoint(bestDir);
    const expected = atEpochEnd.get(best.step)!;
    for (const [path, values] of expected) {
      expect(maxAbsDifference(values, (await saved.tensors.get(MODEL_PREFIX + path)!.data()) as Float32Array), path).toBe(0);
    }
    disposeCheckpoint(saved);
    model.dispose();
  });
});

describe('a resume in the middle of an epoch', () => {
  const config: TrainConfigInput = { steps: 12, checkpointEvery: 2, validateEvery: 0 };

  /** Stops at the step event after the checkpoint at step 6 (epoch 1, index 2): step 7 is logged, then lost. */
  async function interruptedAndResumed(): Promise<{ dir: string; events: RunEvent[]; reference: RunEvent[] }> {
    const fullModel = new TinySearchModel('mid-full', { seed: 8 });
    const reference = await collect(train({ model: fullModel, data: { train: trainData() }, runDir: runDir(), config }));
    fullModel.dispose();
    const dir = runDir();
    const first = new TinySearchModel('mid-first', { seed: 8 });
    await collect(train({ model: first, data: { train: trainData() }, runDir: dir, config }), (e) => e.type === 'step' && e.step === 7);
    first.dispose();
    const resumed = new TinySearchModel('mid-resumed', { seed: 1 });
    const events = await collect(train({ model: resumed, data: { train: trainData() }, runDir: dir, config, resume: true }));
    resumed.dispose();
    return { dir, events, reference };
  }

  it("reports the resumed epoch's mean loss over all its steps", async () => {
    const { events, reference } = await interruptedAndResumed();
    expect(events[0]).toMatchObject({ type: 'start', resumedFrom: { step: 6, epoch: 1 } });
    const means = (list: RunEvent[]) => new Map(list.flatMap((e) => (e.type === 'epoch' ? [[e.epoch, e.meanLoss] as const] : [])));
    const expected = means(reference);
    const resumedMeans = means(events);
    expect([...resumedMeans.keys()]).toEqual([1, 2]);
    // Same steps, same order of summation: the same mean.
    for (const [epoch, mean] of resumedMeans) expect(mean, `epoch ${epoch}`).toBe(expected.get(epoch));
  });

  it('leaves one metrics line per step: the lines logged after the checkpoint are cut', async () => {
    const { dir, events } = await interruptedAndResumed();
    expect(events[0]).toMatchObject({ type: 'start', resumedFrom: { step: 6, metricsLinesDropped: 1 } });
    const lines = await metricsLines(dir);
    expect(lines.filter((e) => e.type === 'step').map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(lines.filter((e) => e.type === 'epoch').map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(lines.filter((e) => e.type === 'start')).toHaveLength(2);
    expect(lines.at(-1)).toMatchObject({ type: 'done', step: 12 });
  });
});

describe('a run stopped after its final checkpoint', () => {
  it('reports the same done, with its validation, when resumed', async () => {
    const config: TrainConfigInput = { epochs: 2, checkpointEvery: 0, validateEvery: 1 };
    const data = () => ({ train: trainData(), val: valData() });
    const full = new TinySearchModel('final-full', { seed: 8 });
    const reference = await collect(train({ model: full, data: data(), numClasses: 3, runDir: runDir(), config }));
    full.dispose();
    const done = reference.at(-1);
    expect(done).toMatchObject({ type: 'done', step: 8, validation: { mIoU: expect.any(Number) } });

    const dir = runDir();
    const first = new TinySearchModel('final-first', { seed: 8 });
    await collect(train({ model: first, data: data(), numClasses: 3, runDir: dir, config }), (e) => e.type === 'checkpoint' && e.reason === 'final');
    first.dispose();
    const resumed = new TinySearchModel('final-resumed', { seed: 1 });
    const events = await collect(train({ model: resumed, data: data(), numClasses: 3, runDir: dir, config, resume: true }));
    resumed.dispose();
    expect(events.map((e) => e.type)).toEqual(['start', 'done']);
    const { time: _t, seconds: _s, ...expected } = done as Extract<RunEvent, { type: 'done' }>;
    expect(events[1]).toMatchObject(expected);
    expect((await metricsLines(dir)).at(-1)).toMatchObject(expected);
  });
});
