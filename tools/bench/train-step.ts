/**
 * Training-step benchmark: one SGD step of the discrete Auto-DeepLab network (the paper's genotype,
 * preset S: F = 20, 19 classes) as the training loop runs it (forward, pixel-wise cross-entropy,
 * backward, loss and gradient norm read back, SGD with momentum and weight decay), on any backend.
 *
 *   npx tsx --tsconfig tsconfig.json tools/bench/train-step.ts [--size 769] [--batch 2,8] [--preset S]
 *       [--repeats 3] [--warmup 1] [--backend wasm] [--dawn-backend vulkan] [--webgpu-adapter hardware]
 *       [--launches 2000] [--results-name train-step]
 *
 * `--size` and `--batch` take lists (every size with every batch). A quick run: `--size 65 --batch 1`.
 * Per row: seconds per step (median of --repeats, after --warmup untimed steps), images per second,
 * kernels per step (tfjs kernel calls) and on webgpu GPU dispatches and queue submissions per step,
 * the peak of the tensor memory and of the GPU memory (tf.memory().numBytesInGPU, sampled every 32
 * kernels), the GPU buffers allocated after the steps, and the process' peak RSS. Once per run: the
 * cost of one kernel launch (`--launches` one-element additions then one read; 0 skips it). A step
 * ends with an async read of an updated weight, so on webgpu its time includes the GPU's work. A row
 * that fails (out of memory, a lost device) is reported with its error and the run goes on.
 */
import { Rng, initBackend } from '@autodeeplab/core';
import { builtinGenotype } from '@autodeeplab/genotype';
import { buildNetwork, type Network } from '@autodeeplab/model';
import { IGNORE_LABEL, SGD, TrainConfigSchema, batchToTensors, computeGradients, disposeBatch, disposeGradients } from '@autodeeplab/optim';
import { formatTable, intArg, parseArgs, timeIt, writeResults } from './common.ts';
import { KernelProbe, backendOptions, gpuMemory, measureLaunchCost } from './webgpu.ts';

const NUM_CLASSES = 19;

interface TrainRow {
  size: number;
  batch: number;
  /** Median seconds per step. */
  stepS?: number;
  samplesS?: number[];
  imagesPerSecond?: number;
  kernels?: number;
  launches?: number;
  submits?: number;
  peakTensorBytes?: number;
  peakGpuBytes?: number;
  gpuAllocatedBytes?: number;
  peakRssBytes?: number;
  loss?: number;
  error?: string;
}

/** A list of integers ≥ `min` separated by commas. */
function intList(value: string | true | undefined, name: string, fallback: string, min: number): number[] {
  return String(value ?? fallback)
    .split(',')
    .map((s) => {
      const n = Number(s);
      if (value === true || !Number.isInteger(n) || n < min) throw new Error(`--${name}: expected integers ≥ ${min} separated by commas, found '${String(s)}'`);
      return n;
    });
}

/** Random images and labels of every class, from a fixed seed. */
function randomBatch(size: number, batch: number) {
  const rng = new Rng(1);
  const images = Float32Array.from(rng.normals(batch * size * size * 3));
  const labels = Int32Array.from({ length: batch * size * size }, () => rng.int(NUM_CLASSES));
  return batchToTensors({ images, labels, batchSize: batch, height: size, width: size }, IGNORE_LABEL);
}

/** Times training steps at one size and batch, with a fresh SGD (the training loop's defaults). */
async function measure(net: Network, size: number, batch: number, probe: KernelProbe, opts: { repeats: number; warmup: number }): Promise<TrainRow> {
  const config = TrainConfigSchema.parse({});
  const parameters = new Set(net.parameters());
  const variables = new Map([...net.stateDict()].filter(([, v]) => parameters.has(v)));
  const first = variables.values().next().value!;
  const sgd = new SGD(variables, { learningRate: config.lr, momentum: config.momentum, weightDecay: config.weightDecay }, 'bench/train-sgd');
  const tensors = randomBatch(size, batch);
  let loss = NaN;
  try {
    const step = async () => {
      const result = await computeGradients(net, variables, tensors, IGNORE_LABEL);
      loss = result.loss;
      sgd.step(result.gradients);
      disposeGradients(result.gradients);
      // The update is queued work on webgpu: the step ends when it is done.
      await first.data();
      probe.sample();
    };
    for (let i = 0; i < opts.warmup; i++) await step();
    probe.reset();
    const timing = await timeIt(step, { repeats: opts.repeats, warmup: 0 });
    const perStep = (n: number) => Math.round(n / timing.samplesMs.length);
    const gpu = gpuMemory();
    const stepS = timing.medianMs / 1000;
    return {
      size,
      batch,
      stepS,
      samplesS: timing.samplesMs.map((ms) => ms / 1000),
      imagesPerSecond: batch / stepS,
      kernels: perStep(probe.kernels),
      ...(probe.launches !== undefined ? { launches: perStep(probe.launches), submits: perStep(probe.submits ?? 0) } : {}),
      peakTensorBytes: probe.peakBytes,
      ...(gpu ? { peakGpuBytes: probe.peakGpuBytes, gpuAllocatedBytes: gpu.numBytesAllocatedInGPU } : {}),
      peakRssBytes: probe.peakRss,
      loss,
    };
  } finally {
    disposeBatch(tensors);
    sgd.dispose();
  }
}

const gb = (bytes: number | undefined) => (bytes === undefined ? '-' : (bytes / 1e9).toFixed(2));

function formatRows(rows: readonly TrainRow[]): string {
  return formatTable(
    ['size', 'batch', 'step s', 'images/s', 'kernels', 'launches', 'submits', 'peak tensor GB', 'GPU peak GB', 'GPU allocated GB', 'peak RSS GB', 'error'],
    rows.map((r) => [
      String(r.size),
      String(r.batch),
      r.stepS?.toFixed(3) ?? '-',
      r.imagesPerSecond?.toFixed(2) ?? '-',
      r.kernels === undefined ? '-' : String(r.kernels),
      r.launches === undefined ? '-' : String(r.launches),
      r.submits === undefined ? '-' : String(r.submits),
      gb(r.peakTensorBytes),
      gb(r.peakGpuBytes),
      gb(r.gpuAllocatedBytes),
      gb(r.peakRssBytes),
      r.error ?? '',
    ]),
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const sizes = intList(args.size, 'size', '769', 16);
  const batches = intList(args.batch, 'batch', '2,8', 1);
  const repeats = intArg(args, 'repeats', 3);
  const warmup = intArg(args, 'warmup', 1);
  const launches = intArg(args, 'launches', 2000);
  const preset = String(args.preset ?? 'S');
  if (preset !== 'S' && preset !== 'M' && preset !== 'L') throw new Error(`--preset: expected S, M or L, found '${preset}'`);

  const info = await initBackend(backendOptions(args));
  if (info.adapter) process.stderr.write(`WebGPU adapter: ${JSON.stringify(info.adapter)}\n`);
  const launchCostUs = launches > 0 ? await measureLaunchCost(launches) : undefined;
  if (launchCostUs !== undefined) process.stderr.write(`launch cost: ${launchCostUs.toFixed(1)} µs per kernel (${launches} one-element additions)\n`);

  const net = buildNetwork(builtinGenotype('paper'), { preset, numClasses: NUM_CLASSES, seed: 0 });
  net.train();
  const parameterCount = net.parameterCount();
  const probe = new KernelProbe();
  probe.install();
  const rows: TrainRow[] = [];
  for (const size of sizes) {
    for (const batch of batches) {
      let row: TrainRow;
      try {
        row = await measure(net, size, batch, probe, { repeats, warmup });
      } catch (error) {
        row = { size, batch, error: error instanceof Error ? error.message.split('\n')[0]! : String(error) };
      }
      rows.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
    }
  }
  probe.uninstall();
  net.dispose();
  process.stderr.write(`${formatRows(rows)}\n`);
  writeResults(String(args['results-name'] ?? 'train-step'), {
    backend: info.name,
    ...(info.adapter ? { adapter: info.adapter } : {}),
    ...(launchCostUs !== undefined ? { launchCostUs } : {}),
    network: { genotype: 'paper', preset, numClasses: NUM_CLASSES, parameters: parameterCount },
    repeats,
    warmup,
    rows,
  });
}

await main();
