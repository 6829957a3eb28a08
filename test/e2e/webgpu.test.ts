/**
 * The webgpu backend against the cpu backend (tfjs's reference kernels): a short search of the real
 * supernet (every op of the search space, forward and backward, α and β updates) and a short
 * training of a decoded network give the same losses and parameters to float32 accumulation, and
 * checkpoints move between webgpu and wasm in both directions. On CI this runs on Mesa's software
 * adapter; without any adapter it fails, it is never skipped.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, type BackendName, type Module } from '@autodeeplab/core';
import { datasetBatchSource, openDataset, searchSplit } from '@autodeeplab/datasets';
import { decode } from '@autodeeplab/decode';
import { type Genotype } from '@autodeeplab/genotype';
import { buildNetwork } from '@autodeeplab/model';
import { search, train, type RunEvent } from '@autodeeplab/optim';
import { Supernet } from '@autodeeplab/search-space';

const NUM_CLASSES = 3;
/**
 * Float32 kernels that sum in different orders differ by ~1e-7 relative per op; four SGD steps
 * through a dozen layers, batch statistics of two 17×17 images and a softmax leave more. Measured on
 * Mesa's llvmpipe: largest parameter difference 2.9e-5 (β, after the search and after each resume),
 * 2.4e-7 (a BN running variance, training); losses within 1.2e-7 relative. The bounds keep a margin
 * over that and stay far below what a wrong kernel gives (≥ 1e-2).
 */
const PARAMETER_TOLERANCE = 2e-4;
const LOSS_RELATIVE_TOLERANCE = 1e-4;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'webgpu-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await initBackend({ backend: 'wasm' });
});

async function use(backend: BackendName): Promise<void> {
  const info = await initBackend({ backend, webgpu: { adapter: 'any' } });
  expect(info.name).toBe(backend);
}

/** Every state tensor's values, read asynchronously (the only read webgpu has in Node). */
async function snapshot(model: Module): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [path, v] of model.stateDict()) out.set(path, (await v.data()) as Float32Array);
  return out;
}

function largestDifference(a: Map<string, Float32Array>, b: Map<string, Float32Array>): { path: string; difference: number } {
  let worst = { path: '', difference: 0 };
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [path, values] of a) {
    const other = b.get(path)!;
    for (let i = 0; i < values.length; i++) {
      const difference = Math.abs(values[i]! - other[i]!);
      if (!(difference <= worst.difference)) worst = { path, difference };
    }
  }
  return worst;
}

function losses(events: RunEvent<unknown>[]): number[] {
  return events.flatMap((e) => (e.type === 'step' ? [e.loss, ...(e.archLoss === undefined ? [] : [e.archLoss])] : []));
}

function expectSameLosses(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((loss, i) =>
    expect(Math.abs(loss - expected[i]!) / Math.abs(expected[i]!), `loss ${i}: ${loss} vs ${expected[i]}`).toBeLessThan(LOSS_RELATIVE_TOLERANCE),
  );
}

function expectSameParameters(actual: Map<string, Float32Array>, expected: Map<string, Float32Array>): void {
  const worst = largestDifference(actual, expected);
  expect(worst.difference, `largest difference ${worst.difference.toExponential(2)} at ${worst.path}`).toBeLessThan(PARAMETER_TOLERANCE);
}

interface SearchOutcome {
  events: RunEvent<Genotype>[];
  state: Map<string, Float32Array>;
  /** tf.memory() at each step event: tensor count and GPU bytes. */
  memory: { tensors: number; gpuBytes: number }[];
}

/** Two epochs of two bilevel steps on 17×17 crops; optionally stopped after the first checkpoint, or resumed. */
async function tinySearch(runDir: string, options: { stopAfterStep?: number; resume?: boolean } = {}): Promise<SearchOutcome> {
  const data = openDataset({ kind: 'synthetic', size: 8, height: 17, width: 17, numClasses: NUM_CLASSES, seed: 1 });
  const split = searchSplit(data, { seed: 0 });
  const supernet = new Supernet({ layers: 2, blocks: 2, filterMultiplier: 2, scales: [4, 8], numClasses: NUM_CLASSES }, { name: 'webgpu-supernet', seed: 3 });
  const stop = new AbortController();
  const outcome: SearchOutcome = { events: [], state: new Map(), memory: [] };
  for await (const event of search({
    model: supernet,
    data: {
      trainA: datasetBatchSource(data, { indices: split.trainA, batchSize: 2, seed: 1 }),
      trainB: datasetBatchSource(data, { indices: split.trainB, batchSize: 2, seed: 2 }),
    },
    runDir,
    resume: options.resume ?? false,
    signal: stop.signal,
    config: { epochs: 2, archStartEpoch: 1, weightLr: 0.05, archLr: 0.02, checkpointEvery: 1, validateEvery: 0 },
    decode: (_model, at) => decode(supernet, { source: 'search', ...at }),
  })) {
    outcome.events.push(event);
    if (event.type === 'step')
      outcome.memory.push({ tensors: tf.memory().numTensors, gpuBytes: (tf.memory() as { numBytesInGPU?: number }).numBytesInGPU ?? 0 });
    if (event.type === 'checkpoint' && options.stopAfterStep !== undefined && event.step >= options.stopAfterStep) stop.abort();
  }
  outcome.state = await snapshot(supernet);
  supernet.dispose();
  return outcome;
}

describe('webgpu backend', () => {
  const reference: { search?: SearchOutcome } = {};

  it('initialises on an adapter and says which', async () => {
    const info = await initBackend({ backend: 'webgpu', webgpu: { adapter: 'any' } });
    expect(info.name).toBe('webgpu');
    expect(info.adapter?.dawnBackend).toMatch(/^(vulkan|opengles|metal|d3d12)$/);
    expect(info.gpu).toBe(!info.adapter!.software);
  });

  it('a short search equals the cpu backend: losses, α, β and weights; tensors and GPU bytes flat over steps', async () => {
    await use('cpu');
    reference.search = await tinySearch(join(root, 'search-cpu'));
    await use('webgpu');
    const gpu = await tinySearch(join(root, 'search-webgpu'));
    expectSameLosses(losses(gpu.events), losses(reference.search.events));
    expectSameParameters(gpu.state, reference.search.state);
    // From the first step with an architecture update on, nothing accumulates.
    const steady = gpu.memory.slice(2);
    expect(new Set(steady.map((m) => m.tensors)).size).toBe(1);
    expect(new Set(steady.map((m) => m.gpuBytes)).size).toBe(1);
  });

  it('a checkpoint written on webgpu resumes on wasm, and one written on wasm resumes on webgpu, to the same end', async () => {
    expect(reference.search, 'needs the search test').toBeDefined();
    for (const [first, second] of [
      ['webgpu', 'wasm'],
      ['wasm', 'webgpu'],
    ] as const) {
      const runDir = join(root, `resume-${first}-${second}`);
      await use(first);
      const stopped = await tinySearch(runDir, { stopAfterStep: 2 });
      expect(stopped.events.at(-1), `${first} run stops early`).toMatchObject({ type: 'done', interrupted: true, step: 2 });
      await use(second);
      const resumed = await tinySearch(runDir, { resume: true });
      expect(resumed.events[0]).toMatchObject({ type: 'start', resumedFrom: { step: 2 } });
      expect(resumed.events.at(-1)).toMatchObject({ type: 'done', interrupted: false, step: 4 });
      expectSameParameters(resumed.state, reference.search!.state);
    }
  });

  it('a short training of the decoded network equals the cpu backend', async () => {
    const genotype = reference.search?.events.at(-1);
    expect(genotype?.type).toBe('done');
    const outcomes: { losses: number[]; state: Map<string, Float32Array> }[] = [];
    for (const backend of ['cpu', 'webgpu'] as const) {
      await use(backend);
      const data = openDataset({ kind: 'synthetic', size: 8, height: 33, width: 33, numClasses: NUM_CLASSES, seed: 4 });
      const network = buildNetwork((genotype as { genotype: Genotype }).genotype, {
        filterMultiplier: 2,
        numClasses: NUM_CLASSES,
        stemFilters: [8, 8, 16],
        asppFilters: 16,
        decoderFilters: 16,
        lowLevelFilters: 8,
        name: 'webgpu-network',
        seed: 6,
      });
      const events: RunEvent<unknown>[] = [];
      for await (const event of train({
        model: network,
        data: { train: datasetBatchSource(data, { batchSize: 4, seed: 7, transforms: { flip: true } }) },
        runDir: join(root, `train-${backend}`),
        config: { epochs: 2, lr: 0.05, checkpointEvery: 0 },
      })) {
        events.push(event);
      }
      outcomes.push({ losses: losses(events), state: await snapshot(network) });
      network.dispose();
    }
    expectSameLosses(outcomes[1]!.losses, outcomes[0]!.losses);
    expectSameParameters(outcomes[1]!.state, outcomes[0]!.state);
  });
});
