import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, loadCheckpoint, disposeCheckpoint, UserInputError } from '@autodeeplab/core';
import type { RunEvent } from './events.js';
import { memoryBatchSource } from './memory-source.js';
import { search, type SearchConfigInput } from './search.js';
import { nameVariables } from './named-variables.js';
import { updateOn } from './update.js';
import { Adam, SGD } from './optimizers.js';
import { TinySearchModel, colourSamples, maxAbsDifference, snapshot } from './testing/tiny.js';
import type { BatchSource } from './types.js';

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  root = await mkdtemp(join(tmpdir(), 'optim-search-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let runs = 0;
const runDir = () => join(root, `run${runs++}`);

function sources(batchSize = 2) {
  return {
    trainA: memoryBatchSource(colourSamples(6, { seed: 1 }), { batchSize, seed: 11 }),
    trainB: memoryBatchSource(colourSamples(6, { seed: 2 }), { batchSize, seed: 12 }),
    val: memoryBatchSource(colourSamples(4, { seed: 3 }), { batchSize, shuffle: false }),
  };
}

const isArch = (path: string) => path === 'alpha' || path === 'beta';
const isWeight = (model: TinySearchModel) => {
  const weights = new Set(nameVariables(model, model.weightParameters(), 'w').keys());
  return (path: string) => weights.has(path);
};

function changed(before: Map<string, Float32Array>, after: Map<string, Float32Array>): string[] {
  return [...before.keys()].filter((k) => maxAbsDifference(before.get(k)!, after.get(k)!) > 0);
}

async function collect(events: AsyncIterable<RunEvent>, onEvent?: (e: RunEvent) => void | 'stop'): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for await (const e of events) {
    out.push(e);
    if (onEvent?.(e) === 'stop') break;
  }
  return out;
}

const FAST: SearchConfigInput = { epochs: 3, archStartEpoch: 1, checkpointEvery: 2, weightLr: 0.05, archLr: 0.05 };

describe('one update', () => {
  it('a weight step changes only weights; an architecture step changes only α and β', async () => {
    const model = new TinySearchModel('upd');
    const weightVars = nameVariables(model, model.weightParameters(), 'w');
    const archVars = nameVariables(model, model.archParameters(), 'a');
    const sgd = new SGD(weightVars, { learningRate: 0.1, momentum: 0.9, weightDecay: 3e-4 }, 'upd/sgd');
    const adam = new Adam(archVars, { learningRate: 0.01, weightDecay: 1e-3 }, 'upd/adam');
    const [batch] = [await sources().trainA.epoch(0)[Symbol.asyncIterator]().next()].map((r) => r.value!);
    const params = (p: string) => isArch(p) || isWeight(model)(p);
    const s0 = snapshot(model, params);
    await updateOn(model, weightVars, sgd, batch!, { ignoreLabel: 255, learningRate: 0.1, what: 'weight', step: 1, epoch: 0 });
    const s1 = snapshot(model, params);
    const afterWeights = changed(s0, s1);
    expect(afterWeights.length).toBe(weightVars.size);
    expect(afterWeights.some(isArch)).toBe(false);
    await updateOn(model, archVars, adam, batch!, { ignoreLabel: 255, learningRate: 0.01, what: 'architecture', step: 1, epoch: 0 });
    expect(changed(s1, snapshot(model, params)).sort()).toEqual(['alpha', 'beta']);
    sgd.dispose();
    adam.dispose();
    model.dispose();
  });
});

describe('search loop (tiny model, cpu)', () => {
  it('keeps α and β still before the architecture-start epoch, then moves them; weights move every step', async () => {
    const model = new TinySearchModel('phase');
    const arch0 = snapshot(model, isArch);
    let previous = snapshot(model, isWeight(model));
    const archDuringEpoch0: string[][] = [];
    const archMovedAt: number[] = [];
    const events = await collect(search({ model, data: sources(), runDir: runDir(), config: FAST }), (e) => {
      if (e.type !== 'step') return;
      const weights = snapshot(model, isWeight(model));
      expect(changed(previous, weights).length).toBeGreaterThan(0);
      previous = weights;
      const moved = changed(arch0, snapshot(model, isArch));
      if (e.epoch === 0) archDuringEpoch0.push(moved);
      else if (moved.length === 2) archMovedAt.push(e.step);
    });
    expect(archDuringEpoch0).toEqual([[], [], []]);
    expect(archMovedAt[0]).toBe(4);
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.map((e) => e.archLoss !== undefined)).toEqual([false, false, false, true, true, true, true, true, true]);
    model.dispose();
  });

  it('emits the event stream and writes it to metrics.jsonl, one JSON line per event', async () => {
    const model = new TinySearchModel('events');
    const dir = runDir();
    const events = await collect(search({ model, data: sources(), runDir: dir, config: FAST }));
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('start');
    expect(types.at(-1)).toBe('done');
    expect(types.filter((t) => t === 'epoch')).toHaveLength(3);
    expect(types.filter((t) => t === 'validation')).toHaveLength(3);
    expect(types.filter((t) => t === 'arch')).toHaveLength(3);
    // 9 steps: interval checkpoints after steps 2 and 4 (step 6 is an epoch end, 8 too close to 9? no: 8 is mid-epoch)
    const checkpoints = events.filter((e) => e.type === 'checkpoint');
    expect(checkpoints.map((e) => [e.step, e.reason])).toEqual([
      [2, 'interval'],
      [3, 'epoch'],
      [4, 'interval'],
      [6, 'epoch'],
      [8, 'interval'],
      [9, 'final'],
    ]);
    const step = events.find((e) => e.type === 'step' && e.step === 5);
    expect(step).toMatchObject({ epoch: 1, stepInEpoch: 1, totalSteps: 9, learningRate: { arch: 0.05 } });
    if (step?.type === 'step') {
      expect(step.learningRate.weights).toBeCloseTo(0.001 + ((0.05 - 0.001) * (1 + Math.cos((Math.PI * 4) / 9))) / 2, 12);
      expect(step.etaSeconds).toBeGreaterThan(0);
      expect(step.imagesPerSecond).toBeGreaterThan(0);
    }
    const arch = events.find((e) => e.type === 'arch');
    expect(arch?.type === 'arch' && arch.parameters.alpha?.shape).toEqual([2, 3]);
    const lines = (await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(types);
    model.dispose();
  });

  it('lowers the loss and moves α and β away from uniform', async () => {
    const model = new TinySearchModel('learn');
    const events = await collect(
      search({
        model,
        data: sources(),
        runDir: runDir(),
        config: { epochs: 6, archStartEpoch: 2, weightLr: 0.1, archLr: 0.05, checkpointEvery: 0, validateEvery: 0 },
      }),
    );
    const losses = events.filter((e) => e.type === 'epoch').map((e) => e.meanLoss);
    expect(losses.at(-1)!).toBeLessThan(0.8 * losses[0]!);
    const alpha = tf.tidy(() => tf.softmax(model.alphaLogits).dataSync());
    const beta = tf.tidy(() => tf.softmax(model.betaLogits).dataSync());
    // Initial logits are 1e-3·N(0,1): probabilities within ~1e-3 of uniform.
    expect(Math.max(...Array.from(alpha, (p) => Math.abs(p - 1 / 3)))).toBeGreaterThan(0.02);
    expect(Math.abs(beta[0]! - 0.5)).toBeGreaterThan(0.01);
    model.dispose();
  });

  it('keeps the tensor count flat across steps, validation and checkpoints', async () => {
    const model = new TinySearchModel('memory');
    const counts: number[] = [];
    await collect(search({ model, data: sources(), runDir: runDir(), config: { ...FAST, archStartEpoch: 0 } }), (e) => {
      if (e.type === 'step') counts.push(tf.memory().numTensors);
    });
    expect(counts).toHaveLength(9);
    expect(new Set(counts).size).toBe(1);
    model.dispose();
  });

  it('refuses to start over an existing checkpoint, and to resume with other settings', async () => {
    const dir = runDir();
    const model = new TinySearchModel('refuse');
    await collect(search({ model, data: sources(), runDir: dir, config: { ...FAST, epochs: 1 } }));
    await expect(collect(search({ model, data: sources(), runDir: dir, config: { ...FAST, epochs: 1 } }))).rejects.toThrow(/already holds a checkpoint/);
    await expect(collect(search({ model, data: sources(), runDir: dir, config: { ...FAST, epochs: 1, weightLr: 0.01 }, resume: true }))).rejects.toThrow(
      /setting 'weightLr' is 0.01 now but was 0.05/,
    );
    await expect(collect(search({ model, data: sources(), runDir: join(dir, 'nothing'), config: FAST, resume: true }))).rejects.toBeInstanceOf(UserInputError);
    model.dispose();
  });
});

describe('resume', () => {
  it('a run stopped after k steps and resumed ends with the same α, β, weights and BN statistics', async () => {
    const full = new TinySearchModel('full', { seed: 5 });
    await collect(search({ model: full, data: sources(), runDir: runDir(), config: FAST }));

    const dir = runDir();
    const first = new TinySearchModel('first', { seed: 5 });
    await collect(search({ model: first, data: sources(), runDir: dir, config: FAST }), (e) => (e.type === 'checkpoint' && e.step === 4 ? 'stop' : undefined));
    first.dispose();
    // A differently initialised model: everything must come from the checkpoint.
    const resumed = new TinySearchModel('resumed', { seed: 99 });
    const events = await collect(search({ model: resumed, data: sources(), runDir: dir, config: FAST, resume: true }));
    expect(events[0]).toMatchObject({ type: 'start', resumedFrom: { step: 4, epoch: 1 } });
    expect(events.filter((e) => e.type === 'step').map((e) => e.step)).toEqual([5, 6, 7, 8, 9]);

    const a = snapshot(full);
    const b = snapshot(resumed);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [path, values] of a) expect(maxAbsDifference(values, b.get(path)!), path).toBeLessThanOrEqual(1e-6);
    full.dispose();
    resumed.dispose();
  });

  it('an aborted run checkpoints at the step boundary and resumes to the same end', async () => {
    const full = new TinySearchModel('abort-full', { seed: 5 });
    await collect(search({ model: full, data: sources(), runDir: runDir(), config: FAST }));
    const dir = runDir();
    const controller = new AbortController();
    const first = new TinySearchModel('abort-first', { seed: 5 });
    const events = await collect(search({ model: first, data: sources(), runDir: dir, config: FAST, signal: controller.signal }), (e) => {
      if (e.type === 'step' && e.step === 5) controller.abort();
    });
    expect(events.at(-2)).toMatchObject({ type: 'checkpoint', reason: 'interrupt', step: 5 });
    expect(events.at(-1)).toMatchObject({ type: 'done', interrupted: true, step: 5 });
    await collect(search({ model: first, data: sources(), runDir: dir, config: FAST, resume: true }));
    const a = snapshot(full);
    const b = snapshot(first);
    for (const [path, values] of a) expect(maxAbsDifference(values, b.get(path)!), path).toBeLessThanOrEqual(1e-6);
    full.dispose();
    first.dispose();
  });
});

/** A source that yields a NaN image at one (epoch, index). */
function poisoned(source: BatchSource, at: { epoch: number; index: number }): BatchSource {
  return {
    batchesPerEpoch: source.batchesPerEpoch,
    async *epoch(epoch, start = 0) {
      let index = start;
      for await (const batch of source.epoch(epoch, start)) {
        if (epoch === at.epoch && index === at.index) yield { ...batch, images: batch.images.map(() => Number.NaN) };
        else yield batch;
        index++;
      }
    },
  };
}

describe('non-finite loss', () => {
  it('stops with an error naming the step and keeps the last good checkpoint, loadable and finite', async () => {
    const dir = runDir();
    const model = new TinySearchModel('nan');
    const data = sources();
    const events: RunEvent[] = [];
    await expect(
      collect(
        search({ model, data: { ...data, trainA: poisoned(data.trainA, { epoch: 1, index: 2 }) }, runDir: dir, config: FAST }),
        (e) => void events.push(e),
      ),
    ).rejects.toThrow(/the weight loss is NaN at step 6 \(epoch 1\)/);
    const error = events.at(-1);
    // The advice is one that resume accepts: a changed learning rate is refused by resume (see above).
    expect((error as { message: string }).message).toMatch(/start the run again with a lower learning rate: a resumed run keeps its settings/);
    expect(error).toMatchObject({ type: 'error', step: 5, checkpoint: join(dir, 'checkpoint') });
    const lines = (await readFile(join(dir, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ type: 'error', message: expect.stringMatching(/step 6/) });
    const checkpoint = await loadCheckpoint<{ step: number }>(join(dir, 'checkpoint'));
    expect(checkpoint.metadata.step).toBe(4);
    for (const [name, t] of checkpoint.tensors) {
      if (t.dtype === 'float32') expect(Array.from(t.dataSync()).every(Number.isFinite), name).toBe(true);
    }
    disposeCheckpoint(checkpoint);
    model.dispose();
  });
});
