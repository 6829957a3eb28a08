/**
 * The whole path on the wasm backend with the real packages composed in code: synthetic data → a
 * tiny search (supernet, bilevel loop, decoding passed in) → train the discrete network → evaluate.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import { datasetBatchSource, openDataset, searchSplit } from '@autodeeplab/datasets';
import { decode } from '@autodeeplab/decode';
import { type Genotype } from '@autodeeplab/genotype';
import { buildNetwork } from '@autodeeplab/model';
import { evaluate, search, train, type ArchEvent, type RunEvent } from '@autodeeplab/optim';
import { Supernet } from '@autodeeplab/search-space';

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  root = await mkdtemp(join(tmpdir(), 'optim-pipeline-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const NUM_CLASSES = 3;
let genotype: Genotype | undefined;

function spread(probabilities: ArrayLike<number>, uniform: number): number {
  return Math.max(...Array.from(probabilities, (p) => Math.abs(p - uniform)));
}

describe('pipeline on synthetic data (wasm)', () => {
  it('a tiny search lowers the loss, moves α and β away from uniform and decodes a genotype', async () => {
    const data = openDataset({ kind: 'synthetic', size: 16, height: 17, width: 17, numClasses: NUM_CLASSES, seed: 1 });
    const val = openDataset({ kind: 'synthetic', size: 4, height: 17, width: 17, numClasses: NUM_CLASSES, seed: 2 });
    const split = searchSplit(data, { seed: 0 });
    const supernet = new Supernet(
      {
        layers: 2,
        blocks: 2,
        filterMultiplier: 2,
        scales: [4, 8],
        numClasses: NUM_CLASSES,
        ops: ['none', 'skip_connect', 'max_pool_3x3', 'sep_conv_3x3', 'dil_conv_3x3'],
      },
      { name: 'pipeline-supernet', seed: 3 },
    );
    const events: RunEvent<Genotype>[] = [];
    const tensorCounts: number[] = [];
    const runDir = join(root, 'search');
    for await (const event of search({
      model: supernet,
      data: {
        trainA: datasetBatchSource(data, { indices: split.trainA, batchSize: 2, seed: 1 }),
        trainB: datasetBatchSource(data, { indices: split.trainB, batchSize: 2, seed: 2 }),
        val: datasetBatchSource(val, { batchSize: 4, seed: 0, shuffle: false }),
      },
      runDir,
      config: { epochs: 3, archStartEpoch: 1, weightLr: 0.05, archLr: 0.02, checkpointEvery: 0, validateEvery: 3 },
      decode: (_model, at) => decode(supernet, { source: 'search', ...at }),
    })) {
      events.push(event);
      if (event.type === 'step') tensorCounts.push(tf.memory().numTensors);
    }
    expect(new Set(tensorCounts).size).toBe(1);
    const epochs = events.filter((e) => e.type === 'epoch');
    expect(epochs).toHaveLength(3);
    expect(epochs[2]!.meanLoss).toBeLessThan(epochs[0]!.meanLoss);
    // α and β start at 1e-3·N(0,1): their softmax is uniform to within ~1e-3.
    const alpha = tf.tidy(() => tf.softmax(supernet.alpha).dataSync());
    expect(spread(alpha, 1 / 5)).toBeGreaterThan(5e-3);
    const betaLogits = supernet.beta.dataSync();
    expect(Math.max(...Array.from(betaLogits, Math.abs))).toBeGreaterThan(5e-3);
    const done = events.at(-1);
    expect(done?.type).toBe('done');
    genotype = done?.type === 'done' ? done.genotype : undefined;
    expect(genotype?.path).toHaveLength(2);
    // The done event carries the last epoch's architecture, that of the final α and β; optim writes
    // no genotype file (the command line does, see pipeline.test.ts).
    const arch = events.filter((e): e is ArchEvent<Genotype> => e.type === 'arch');
    expect(arch).toHaveLength(3);
    expect(arch.at(-1)?.genotype).toEqual(genotype);
    const final = decode(supernet);
    expect({ cell: genotype?.cell, path: genotype?.path }).toEqual({ cell: final.cell, path: final.path });
    expect(existsSync(join(runDir, 'genotype.json'))).toBe(false);
    const logged = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(logged).toHaveLength(events.length);
    supernet.dispose();
  });

  it('a short training of the decoded network beats the majority-class baseline clearly', async () => {
    expect(genotype, 'needs the genotype of the search test').toBeDefined();
    const data = openDataset({ kind: 'synthetic', size: 16, height: 33, width: 33, numClasses: NUM_CLASSES, seed: 4 });
    const val = openDataset({ kind: 'synthetic', size: 8, height: 33, width: 33, numClasses: NUM_CLASSES, seed: 5 });
    const network = buildNetwork(genotype!, {
      filterMultiplier: 2,
      numClasses: NUM_CLASSES,
      stemFilters: [8, 8, 16],
      asppFilters: 16,
      decoderFilters: 16,
      lowLevelFilters: 8,
      // 100 steps: BN's moving averages need a short horizon (the official decay 0.9997 needs thousands).
      batchNormDecay: 0.9,
      name: 'pipeline-network',
      seed: 6,
    });
    for await (const event of train({
      model: network,
      data: { train: datasetBatchSource(data, { batchSize: 4, seed: 7, transforms: { flip: true } }) },
      runDir: join(root, 'train'),
      config: { epochs: 25, lr: 0.05, checkpointEvery: 0 },
    })) {
      void event;
    }
    const result = await evaluate({ model: network, data: datasetBatchSource(val, { batchSize: 4, seed: 0, shuffle: false }), numClasses: NUM_CLASSES });
    // Baseline: predict the most frequent class everywhere; its IoU is that class's pixel share,
    // the others' are 0, averaged over the classes present.
    const m = result.confusion;
    const rows = Array.from({ length: NUM_CLASSES }, (_, r) => Array.from({ length: NUM_CLASSES }, (_, c) => m.get(r, c)).reduce((a, b) => a + b, 0));
    const present = rows.filter((n) => n > 0).length;
    const baseline = Math.max(...rows) / result.pixels / present;
    expect(result.mIoU, `mIoU ${result.mIoU.toFixed(3)} vs baseline ${baseline.toFixed(3)}`).toBeGreaterThan(2 * baseline);
    network.dispose();
  });
});
