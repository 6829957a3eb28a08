/**
 * Data-parallel benchmark: one weight step (forward + backward on a batch, SGD with momentum) of a
 * moderately sized supernet, on the main thread alone (workers = 1) and split over the main thread
 * and worker threads (workers = 2, …), each a backend instance of its own.
 *
 *   npx tsx --tsconfig tsconfig.json tools/bench/parallel.ts \
 *     [--layers 6] [--filters 8] [--size 65] [--batch 2] [--workers 2] [--repeats 3] [--warmup 1] [--backend wasm]
 *
 * Reports seconds per step, the speed-up, where the parallel step's time went (state sync, main
 * part, waiting for the workers, combining) and the 1-minute load average before and after each
 * measurement: the machine is shared, so other processes' load changes the figures.
 */
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { Rng, initBackend, type BackendName } from '@autodeeplab/core';
import { Supernet } from '@autodeeplab/search-space';
import {
  GradientWorkerPool,
  SGD,
  batchToTensors,
  computeGradients,
  disposeBatch,
  disposeGradients,
  type Batch,
  type GradientResult,
  type ParallelStepStats,
} from '@autodeeplab/optim';
import { formatTable, intArg, parseArgs, timeIt, writeResults } from './common.ts';

const args = parseArgs(process.argv.slice(2));
const layers = intArg(args, 'layers', 6);
const filters = intArg(args, 'filters', 8);
const size = intArg(args, 'size', 65);
const batchSize = intArg(args, 'batch', 2);
const maxWorkers = intArg(args, 'workers', 2);
const repeats = intArg(args, 'repeats', 3);
const warmup = intArg(args, 'warmup', 1);
const backend = (typeof args.backend === 'string' ? args.backend : 'wasm') as BackendName;
const numClasses = 19;

await initBackend({ backend });
const rng = new Rng(5);
const batch: Batch = {
  images: Float32Array.from(rng.normals(batchSize * size * size * 3)),
  labels: Int32Array.from({ length: batchSize * size * size }, () => rng.int(numClasses)),
  batchSize,
  height: size,
  width: size,
};
const net = new Supernet({ layers, filterMultiplier: filters, numClasses }, { name: 'bench', seed: 1 });
const weights = new Map([...net.namedParameters('weight')]);
const parameters = net.parameterCount();

async function local(): Promise<GradientResult> {
  const tensors = batchToTensors(batch, 255);
  try {
    return await computeGradients(net, weights, tensors, 255);
  } finally {
    disposeBatch(tensors);
  }
}

interface Row {
  workers: number;
  secondsPerStep: number;
  speedUp: number;
  stats?: ParallelStepStats;
  load1mBefore: number;
  load1mAfter: number;
}

const rows: Row[] = [];
for (let workers = 1; workers <= maxWorkers; workers++) {
  const pool = workers > 1 ? await GradientWorkerPool.start({ model: net, replica: net.replica(), backend, workers: workers - 1 }) : undefined;
  const sgd = new SGD(weights, { learningRate: 1e-3, momentum: 0.9 });
  try {
    const step = async () => {
      const result = pool ? await pool.gradients(weights, batch, 255) : await local();
      sgd.step(result.gradients);
      disposeGradients(result.gradients);
    };
    const load1mBefore = loadavg()[0]!;
    const timing = await timeIt(step, { warmup, repeats });
    const secondsPerStep = timing.medianMs / 1000;
    const speedUp = rows[0] ? rows[0].secondsPerStep / secondsPerStep : 1;
    rows.push({ workers, secondsPerStep, speedUp, ...(pool?.lastStep ? { stats: pool.lastStep } : {}), load1mBefore, load1mAfter: loadavg()[0]! });
  } finally {
    sgd.dispose();
    await pool?.terminate();
  }
}

const ms = (x: number | undefined) => (x === undefined ? '' : (x / 1000).toFixed(2));
process.stderr.write(
  formatTable(
    ['workers', 's/step', 'speed-up', 'sync s', 'main s', 'wait s', 'combine s', 'worker s', 'load 1m'],
    rows.map((r) => [
      String(r.workers),
      r.secondsPerStep.toFixed(2),
      r.speedUp.toFixed(2),
      ms(r.stats?.syncMs),
      ms(r.stats?.mainMs),
      ms(r.stats?.waitMs),
      ms(r.stats?.combineMs),
      ms(r.stats?.workers[0]?.computeMs),
      `${r.load1mBefore.toFixed(1)}→${r.load1mAfter.toFixed(1)}`,
    ]),
  ) + '\n',
);
writeResults('parallel', { backend, layers, filterMultiplier: filters, size, batchSize, parameters, numTensors: tf.memory().numTensors, rows });
net.dispose();
