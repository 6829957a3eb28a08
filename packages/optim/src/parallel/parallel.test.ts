import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import type { RunEvent } from '../events.js';
import { batchToTensors, disposeBatch } from '../batch-tensors.js';
import { computeGradients, disposeGradients } from '../gradients.js';
import { nameVariables } from '../named-variables.js';
import { memoryBatchSource } from '../memory-source.js';
import { SGD } from '../optimizers.js';
import { search, type SearchConfigInput } from '../search.js';
import { colourSamples, maxAbsDifference, snapshot } from '../testing/tiny.js';
import type { Batch } from '../types.js';
import { GradientWorkerPool } from './pool.js';
import { splitBatch } from './split.js';
import { faultyDescriptor, tinyDescriptor, tinyModel } from './testing/models.js';

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  root = await mkdtemp(join(tmpdir(), 'optim-parallel-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function batchOf(count: number, seed: number, ignoreFraction = 0.3): Batch {
  const samples = colourSamples(count, { seed, ignoreFraction });
  const pixels = samples[0]!.height * samples[0]!.width;
  const images = new Float32Array(count * pixels * 3);
  const labels = new Int32Array(count * pixels);
  samples.forEach((s, i) => {
    images.set(s.image, i * pixels * 3);
    labels.set(s.label, i * pixels);
  });
  return { images, labels, batchSize: count, height: samples[0]!.height, width: samples[0]!.width };
}

async function singleProcess(model: ReturnType<typeof tinyModel>, variables: ReadonlyMap<string, tf.Variable>, raw: Batch) {
  const batch = batchToTensors(raw, 255);
  try {
    const result = await computeGradients(model, variables, batch, 255);
    const values = new Map<string, Float32Array>();
    for (const [path, g] of result.gradients) values.set(path, g.dataSync() as Float32Array);
    disposeGradients(result.gradients);
    return { loss: result.loss, gradNorm: result.gradNorm, values };
  } finally {
    disposeBatch(batch);
  }
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

/** Every gradient within 1e-5 of the reference, relative to that tensor's largest entry. */
function expectSameGradients(actual: Map<string, tf.Tensor>, expected: Map<string, Float32Array>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [path, ref] of expected) {
    const got = actual.get(path)!.dataSync() as Float32Array;
    expect(maxAbsDifference(got, ref), path).toBeLessThanOrEqual(1e-5 * maxAbs(ref) + 1e-9);
  }
}

describe('GradientWorkerPool', () => {
  it('gives the single-process gradient of the whole batch without batch-statistics BN (eval mode), after weight changes too', async () => {
    const model = tinyModel('main', { seed: 3 }).eval();
    const pool = await GradientWorkerPool.start({ model, replica: tinyDescriptor(), backend: 'cpu', workers: 1 });
    try {
      const weights = nameVariables(model, model.weightParameters(), 'weights');
      const arch = nameVariables(model, model.archParameters(), 'arch');
      const sgd = new SGD(weights, { learningRate: 0.5, momentum: 0.9 });
      // Three images split 2 + 1, with ignored pixels: the parts weigh by their labelled pixels.
      for (const [k, variables] of [weights, weights, arch].entries()) {
        const raw = batchOf(3, 40 + k);
        const reference = await singleProcess(model, variables, raw);
        const result = await pool.gradients(variables, raw, 255);
        expect(result.loss).toBeCloseTo(reference.loss, 5);
        expect(Math.abs(result.gradNorm - reference.gradNorm)).toBeLessThanOrEqual(1e-5 * reference.gradNorm);
        expectSameGradients(result.gradients, reference.values);
        // Change the main copy: the next comparison only holds if the worker receives the new weights.
        if (variables === weights) sgd.step(result.gradients);
        disposeGradients(result.gradients);
      }
      expect(pool.lastStep!.syncValues).toBeGreaterThan(0);
      sgd.dispose();
    } finally {
      await pool.terminate();
      model.dispose();
    }
  });

  it('with BN in train mode gives the weighted mean of per-part gradients and averages the running statistics', async () => {
    const model = tinyModel('main', { seed: 4 }).train();
    const pool = await GradientWorkerPool.start({ model, replica: tinyDescriptor(), backend: 'cpu', workers: 1 });
    try {
      const variables = nameVariables(model, model.weightParameters(), 'weights');
      const raw = batchOf(2, 50, 0);
      const parts = splitBatch(raw, 2);
      const buffers = (p: string) => p.includes('running');
      const before = snapshot(model, buffers);
      const restore = () =>
        tf.tidy(() => model.loadStateDict(new Map([...before].map(([p, v]) => [p, tf.tensor(v, model.stateDict().get(p)!.shape)])), { strict: false }));
      const perPart: Awaited<ReturnType<typeof singleProcess>>[] = [];
      const statistics: Map<string, Float32Array>[] = [];
      for (const part of parts) {
        perPart.push(await singleProcess(model, variables, part));
        statistics.push(snapshot(model, buffers));
        restore();
      }
      // Both parts have 64 labelled pixels: equal weights.
      const expected = new Map<string, Float32Array>();
      for (const [path, g0] of perPart[0]!.values)
        expected.set(
          path,
          g0.map((x, i) => 0.5 * x + 0.5 * perPart[1]!.values.get(path)![i]!),
        );
      const result = await pool.gradients(variables, raw, 255);
      expect(result.loss).toBeCloseTo(0.5 * perPart[0]!.loss + 0.5 * perPart[1]!.loss, 5);
      expectSameGradients(result.gradients, expected);
      disposeGradients(result.gradients);
      const after = snapshot(model, buffers);
      expect(after.size).toBeGreaterThan(0);
      for (const [path, values] of after) {
        const mean = statistics[0]!.get(path)!.map((x, i) => 0.5 * x + 0.5 * statistics[1]!.get(path)![i]!);
        expect(maxAbsDifference(values, mean), path).toBeLessThanOrEqual(1e-6);
        expect(maxAbsDifference(values, before.get(path)!), path).toBeGreaterThan(0);
      }
    } finally {
      await pool.terminate();
      model.dispose();
    }
  });

  it('keeps the tensor counts of the main thread and the worker flat over steps', async () => {
    const model = tinyModel('main', { seed: 6 });
    const pool = await GradientWorkerPool.start({ model, replica: tinyDescriptor(), backend: 'cpu', workers: 1 });
    try {
      const variables = nameVariables(model, model.weightParameters(), 'weights');
      const sgd = new SGD(variables, { learningRate: 0.1, momentum: 0.9 });
      const counts: number[] = [];
      const workerCounts: number[] = [];
      for (let k = 0; k < 4; k++) {
        const result = await pool.gradients(variables, batchOf(2, 60 + k), 255);
        sgd.step(result.gradients);
        disposeGradients(result.gradients);
        counts.push(tf.memory().numTensors);
        workerCounts.push(pool.lastStep!.workers[0]!.tensors);
      }
      expect(new Set(counts.slice(1)).size).toBe(1);
      expect(new Set(workerCounts.slice(1)).size).toBe(1);
      sgd.dispose();
    } finally {
      await pool.terminate();
      model.dispose();
    }
  });

  it('a step whose worker throws rejects naming the worker and leaves no tensors behind', async () => {
    const model = tinyModel('main', { seed: 8 });
    const pool = await GradientWorkerPool.start({ model, replica: faultyDescriptor(1, 'throw'), backend: 'cpu', workers: 1 });
    try {
      const variables = nameVariables(model, model.weightParameters(), 'weights');
      const ok = await pool.gradients(variables, batchOf(2, 70), 255);
      disposeGradients(ok.gradients);
      const before = tf.memory().numTensors;
      await expect(pool.gradients(variables, batchOf(2, 71), 255)).rejects.toThrow(/gradient worker 1: RangeError: injected failure in forward 2/);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      await pool.terminate();
      model.dispose();
    }
    await expect(pool.gradients(new Map(), batchOf(2, 72), 255)).rejects.toThrow(/used after terminate/);
  });

  it('names the worker whose model cannot be built', async () => {
    const model = tinyModel('main');
    try {
      await expect(
        GradientWorkerPool.start({ model, replica: { module: tinyDescriptor().module, export: 'noSuchExport' }, backend: 'cpu', workers: 1 }),
      ).rejects.toThrow(/gradient worker 1: .*no function or class export 'noSuchExport'/);
    } finally {
      model.dispose();
    }
  });
});

const CONFIG: SearchConfigInput = { epochs: 3, archStartEpoch: 1, checkpointEvery: 2, weightLr: 0.05, archLr: 0.05, validateEvery: 0, workers: 2 };

function fixture(seed = 3) {
  return {
    model: tinyModel('search', { seed }),
    data: {
      trainA: memoryBatchSource(colourSamples(8, { seed: 21 }), { batchSize: 2, seed: 1 }),
      trainB: memoryBatchSource(colourSamples(8, { seed: 22 }), { batchSize: 2, seed: 2 }),
    },
    replica: tinyDescriptor(),
  };
}

async function collect(events: AsyncIterable<RunEvent>, onEvent?: (e: RunEvent) => void): Promise<{ events: RunEvent[]; error?: unknown }> {
  const out: RunEvent[] = [];
  try {
    for await (const e of events) {
      out.push(e);
      onEvent?.(e);
    }
  } catch (error) {
    return { events: out, error };
  }
  return { events: out };
}

describe('search with workers: 2', () => {
  it('lowers the loss, checkpoints, and an interrupted run resumes to the uninterrupted result', async () => {
    const reference = fixture();
    const full = await collect(search({ ...reference, runDir: join(root, 'full'), config: CONFIG }));
    expect(full.error).toBeUndefined();
    const epochs = full.events.filter((e) => e.type === 'epoch');
    expect(epochs).toHaveLength(3);
    expect(epochs.at(-1)!.meanLoss).toBeLessThan(epochs[0]!.meanLoss);
    expect(full.events.filter((e) => e.type === 'checkpoint').length).toBeGreaterThan(0);
    expect(full.events.at(-1)).toMatchObject({ type: 'done', step: 12 });

    const controller = new AbortController();
    const first = fixture();
    const dir = join(root, 'interrupted');
    const part = await collect(search({ ...first, runDir: dir, config: CONFIG, signal: controller.signal }), (e) => {
      if (e.type === 'step' && e.step === 5) controller.abort();
    });
    expect(part.events.at(-1)).toMatchObject({ type: 'done', interrupted: true, step: 5 });
    const resumed = fixture(77); // other initial weights: the checkpoint must replace them, in the workers too
    const rest = await collect(search({ ...resumed, runDir: dir, config: CONFIG, resume: true }));
    expect(rest.error).toBeUndefined();
    expect(rest.events[0]).toMatchObject({ type: 'start', resumedFrom: { step: 5 } });
    const a = snapshot(reference.model);
    const b = snapshot(resumed.model);
    for (const [path, values] of a) expect(maxAbsDifference(values, b.get(path)!), path).toBeLessThanOrEqual(1e-6);
    for (const m of [reference.model, first.model, resumed.model]) m.dispose();
  });

  for (const kind of ['throw', 'exit'] as const) {
    it(`ends with an error event naming the worker when it ${kind === 'throw' ? 'throws' : 'exits'}`, async () => {
      const { model, data } = fixture();
      const run = await collect(search({ model, data, replica: faultyDescriptor(3, kind), runDir: join(root, `fault-${kind}`), config: CONFIG }));
      expect(run.error).toBeInstanceOf(Error);
      const last = run.events.at(-1)!;
      expect(last.type).toBe('error');
      const message = last.type === 'error' ? last.message : '';
      expect(message).toMatch(kind === 'throw' ? /gradient worker 1: RangeError: injected failure/ : /gradient worker 1: exited unexpectedly with code 7/);
      expect(run.events.filter((e) => e.type === 'step').length).toBe(3);
      model.dispose();
    });
  }
});
