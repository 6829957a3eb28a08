/**
 * Search-step benchmark: one first-order bilevel iteration of the paper's supernet (L = 12, B = 5,
 * F = 8, scales 4–32, 19 classes), batch 2, on any backend (default wasm): the weight step (forward + backward on one batch,
 * SGD with momentum) then the architecture step (forward + backward on another batch, Adam on α, β).
 *
 *   npx tsx --tsconfig tsconfig.json tools/bench/search-step.ts [--sizes 65,129,321] [--repeats 1]
 *       [--warmup 1] [--layers 12] [--plain-layers 4] [--plain-size 65] [--backend wasm] [--workers 1,2]
 *       [--dawn-backend vulkan|opengles] [--webgpu-adapter hardware|software|any] [--launches 2000]
 *       [--results-name search-step]
 *
 * `--backend` is core's initBackend's (webgpu, tensorflow, wasm, cpu); `--dawn-backend` and
 * `--webgpu-adapter` are its `webgpu` options. Every timed region ends with an async read of a value
 * the work produced (the loss, then an architecture parameter after its update), so on webgpu a time
 * includes the GPU's work. Per iteration it also reports the kernels (tfjs kernel calls), on webgpu
 * the GPU dispatches and queue submissions, and the peak GPU memory of the tensors
 * (tf.memory().numBytesInGPU, sampled every 32 kernels) with the GPU buffers allocated at the end;
 * and once, the cost of one launch (`--launches` one-element additions, then one read; 0 skips it).
 * Worker threads (`--workers` > 1) are for the CPU backends only.
 *
 * `--workers` lists the backend-instance counts to time the iteration with (default 1). With N > 1
 * each step's gradients come from a GradientWorkerPool of @autodeeplab/optim (the main thread and
 * N − 1 worker threads, one part of the batch each; BN normalises each part with its own statistics,
 * "ghost batch norm"), then the same SGD / Adam update as the single-thread path is applied on the
 * main thread. A pool is started per size and warmed by one untimed iteration (its workers create
 * their XNNPACK operators and receive the whole state then); its start time, the sync / main / wait /
 * combine times of the last timed weight and architecture steps, and the peak process RSS (main
 * thread and workers: one process) sampled during the timed iterations are reported, with the
 * process' CPU seconds per iteration (all threads; unlike wall time, not inflated by other
 * processes on a shared machine).
 *
 * Per size: seconds per iteration (median of --repeats), forward-only and forward+backward seconds
 * (one run each, after --warmup forwards), kernel launches per forward and per forward+backward
 * (every kernel launch, through `watchKernels` of @autodeeplab/core; on webgpu also GPU dispatches), the
 * kernels taking most time (on webgpu: CPU-side recording, not GPU time), the peak of tf.memory().numBytes
 * (sampled every 32 kernels) and the process' max RSS (at the end: the maximum over all sizes). The plain reference forward is measured on a
 * smaller trellis (`--plain-layers`, at `--plain-size`) next to the stacked one for the ratio: the
 * plain path of the full supernet takes minutes per step.
 */
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { Rng, initBackend, trackMemory } from '@autodeeplab/core';
import { Supernet, estimateCost } from '@autodeeplab/search-space';
import { Adam, GradientWorkerPool, SGD, SearchConfigSchema, disposeGradients, type Batch, type ParallelStepStats } from '@autodeeplab/optim';
import { intArg, parseArgs, timeIt, writeResults } from './common.ts';
import { formatReport, type IterationRow, type Row } from './search-step-report.ts';
import { KernelProbe, backendOptions, gpuMemory, measureLaunchCost } from './webgpu.ts';

const PAPER = { layers: 12, blocks: 5, filterMultiplier: 8, scales: [4, 8, 16, 32] as (4 | 8 | 16 | 32)[], numClasses: 19 };
const BATCH = 2;

/** One batch as tensors (single-thread path) and as the raw arrays a GradientWorkerPool splits. */
function batch(size: number, seed: number, classes: number) {
  const rng = new Rng(seed);
  const images = Float32Array.from(rng.normals(BATCH * size * size * 3));
  const ids = Int32Array.from({ length: BATCH * size * size }, () => rng.int(classes));
  const x = tf.tensor4d(images, [BATCH, size, size, 3]);
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d(ids, 'int32'), classes).reshape([BATCH, size, size, classes]));
  const raw: Batch = { images, labels: ids, batchSize: BATCH, height: size, width: size };
  return { x, labels, raw };
}

/** No pixel carries it: every label is a class. */
const IGNORE_LABEL = 255;

const loss = (logits: tf.Tensor, labels: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;

async function measure(
  net: Supernet,
  size: number,
  fused: boolean,
  probe: KernelProbe,
  opts: { repeats: number; warmup: number; iteration: boolean; workers: number[]; backend: string },
): Promise<Row> {
  const train = batch(size, 1, net.config.numClasses);
  const valid = batch(size, 2, net.config.numClasses);
  const weights = net.weightParameters();
  const arch = net.archParameters();
  const forward = async () => {
    const total = tf.tidy(() => net.forward(train.x, { fused }).sum());
    await total.data();
    total.dispose();
  };
  const forwardBackward = async (x: tf.Tensor4D, labels: tf.Tensor, vars: tf.Variable[]) => {
    // As the search loop: the forward is told which variables are differentiated.
    const { value, grads } = tf.variableGrads(() => loss(net.forward(x, { fused, gradientTargets: vars }), labels), vars);
    await value.data();
    return { value, grads };
  };

  // Warm-up (tfjs-backend-wasm creates its XNNPACK operators on first use), then one probed and
  // timed forward and one probed and timed forward + backward (the probe adds little to a kernel).
  for (let i = 0; i < opts.warmup; i++) await forward();
  probe.reset();
  let start = performance.now();
  await forward();
  const forwardS = (performance.now() - start) / 1000;
  const kernelsForward = probe.kernels;
  const launchesForward = probe.launches;
  probe.reset();
  probe.timing = true;
  const memory = trackMemory();
  start = performance.now();
  const once = await forwardBackward(train.x, train.labels, [...weights, ...arch]);
  tf.dispose([once.value, ...Object.values(once.grads)]);
  const forwardBackwardS = (performance.now() - start) / 1000;
  const peakStepBytes = memory.peak();
  const memorySource = memory.source;
  memory.stop();
  probe.timing = false;
  const kernelsForwardBackward = probe.kernels;
  const launchesForwardBackward = probe.launches;
  const peakTensorBytes = probe.peakBytes;
  const topKernels = probe.topKernels();

  const iterations: IterationRow[] = [];
  if (opts.iteration) {
    for (const workers of opts.workers) {
      const timed = await timeIterations(net, workers, { train, valid, weights, arch, forwardBackward, probe, repeats: opts.repeats, backend: opts.backend });
      iterations.push(timed);
      process.stderr.write(
        `  ${size}×${size}, workers ${workers}: ${timed.iterationS.toFixed(2)} s / iteration, ${timed.minorFaults} minor page faults / iteration\n`,
      );
    }
  }
  const iterationS = iterations.find((r) => r.workers === 1)?.iterationS;
  tf.dispose([train.x, train.labels, valid.x, valid.labels]);
  const { layers, blocks, filterMultiplier, scales } = net.config;
  return {
    config: `L=${layers} B=${blocks} F=${filterMultiplier} scales=${scales.join('/')}`,
    size,
    path: fused ? 'stacked' : 'plain',
    iterationS,
    ...(opts.iteration ? { iterations } : {}),
    forwardS,
    forwardBackwardS,
    kernelsForward,
    kernelsForwardBackward,
    ...(launchesForward !== undefined ? { launchesForward, launchesForwardBackward } : {}),
    peakTensorBytes,
    peakStepBytes,
    memorySource,
    ...(fused ? { estimatedPeakBytes: estimateCost(net.config, { height: size, width: size, batch: BATCH }).trainingPeakBytes } : {}),
    loadAverage1m: loadavg()[0]!,
    topKernels,
  };
}

interface IterationContext {
  train: ReturnType<typeof batch>;
  valid: ReturnType<typeof batch>;
  weights: tf.Variable[];
  arch: tf.Variable[];
  forwardBackward: (x: tf.Tensor4D, labels: tf.Tensor, vars: tf.Variable[]) => Promise<{ value: tf.Scalar; grads: tf.NamedTensorMap }>;
  probe: KernelProbe;
  repeats: number;
  backend: string;
}

/**
 * Times `repeats` bilevel iterations with `workers` backend instances. The updates are the search
 * loop's own optimisers (SGD with momentum and weight decay, Adam) with its default
 * hyper-parameters, fresh per row, fed gradients by state-dict path either way.
 */
async function timeIterations(net: Supernet, workers: number, c: IterationContext): Promise<IterationRow> {
  const config = SearchConfigSchema.parse({});
  const pathOf = new Map<tf.Variable, string>();
  for (const [path, v] of net.stateDict()) pathOf.set(v, path);
  const named = (vars: tf.Variable[]) => new Map(vars.map((v) => [pathOf.get(v)!, v] as const));
  const weightMap = named(c.weights);
  const archMap = named(c.arch);
  const sgd = new SGD(weightMap, { learningRate: config.weightLr, momentum: config.momentum, weightDecay: config.weightDecay }, 'bench/sgd');
  const adam = new Adam(
    archMap,
    { learningRate: config.archLr, beta1: config.archBeta1, beta2: config.archBeta2, epsilon: config.archEpsilon, weightDecay: config.archWeightDecay },
    'bench/adam',
  );
  // Gradients from tf.variableGrads (keyed by variable name) keyed by state-dict path.
  const pathOfName = new Map([...net.stateDict()].map(([path, v]) => [v.name, path] as const));
  const byPath = (grads: tf.NamedTensorMap): Map<string, tf.Tensor> => new Map(Object.entries(grads).map(([name, g]) => [pathOfName.get(name)!, g] as const));

  let pool: GradientWorkerPool | undefined;
  let poolStartS: number | undefined;
  if (workers > 1) {
    const start = performance.now();
    pool = await GradientWorkerPool.start({ model: net, replica: net.replica(), backend: c.backend, workers: workers - 1 });
    poolStartS = (performance.now() - start) / 1000;
  }
  let weightStep: ParallelStepStats | undefined;
  let archStep: ParallelStepStats | undefined;
  try {
    const iteration = async () => {
      if (!pool) {
        const w = await c.forwardBackward(c.train.x, c.train.labels, c.weights);
        sgd.step(byPath(w.grads));
        tf.dispose([w.value, ...Object.values(w.grads)]);
        const a = await c.forwardBackward(c.valid.x, c.valid.labels, c.arch);
        adam.step(byPath(a.grads));
        tf.dispose([a.value, ...Object.values(a.grads)]);
        // The update is queued work on webgpu: the iteration ends when it is done.
        await c.arch[0]!.data();
      } else {
        const w = await pool.gradients(weightMap, c.train.raw, IGNORE_LABEL);
        weightStep = pool.lastStep;
        sgd.step(w.gradients);
        disposeGradients(w.gradients);
        c.probe.sample();
        const a = await pool.gradients(archMap, c.valid.raw, IGNORE_LABEL);
        archStep = pool.lastStep;
        adam.step(a.gradients);
        disposeGradients(a.gradients);
      }
      c.probe.sample();
    };
    // The main thread is warm from the forward / forward + backward runs before; a pool's workers
    // are not (operator creation, the first full state sync): one untimed iteration.
    if (pool) await iteration();
    const loadAverage1mBefore = loadavg()[0]!;
    c.probe.reset();
    const cpu = process.cpuUsage();
    const faultsBefore = process.resourceUsage().minorPageFault;
    const timing = await timeIt(iteration, { repeats: c.repeats, warmup: 0 });
    const cpuUsed = process.cpuUsage(cpu);
    const faults = process.resourceUsage().minorPageFault - faultsBefore;
    const perIteration = (n: number) => Math.round(n / timing.samplesMs.length);
    const launches = c.probe.launches;
    const gpu = gpuMemory();
    return {
      workers,
      iterationS: timing.medianMs / 1000,
      kernels: perIteration(c.probe.kernels),
      ...(launches !== undefined ? { launches: perIteration(launches), submits: perIteration(c.probe.submits ?? 0) } : {}),
      ...(gpu ? { peakGpuBytes: c.probe.peakGpuBytes, gpuAllocatedBytes: gpu.numBytesAllocatedInGPU } : {}),
      samplesS: timing.samplesMs.map((ms) => ms / 1000),
      cpuS: (cpuUsed.user + cpuUsed.system) / 1e6 / timing.samplesMs.length,
      minorFaults: Math.round(faults / timing.samplesMs.length),
      ...(poolStartS !== undefined ? { poolStartS } : {}),
      ...(weightStep ? { weightStep } : {}),
      ...(archStep ? { archStep } : {}),
      peakRssBytes: c.probe.peakRss,
      loadAverage1mBefore,
      loadAverage1mAfter: loadavg()[0]!,
    };
  } finally {
    sgd.dispose();
    adam.dispose();
    await pool?.terminate();
  }
}

/** The command line, checked. */
function parseOptions(args: Record<string, string | true>) {
  const sizes = String(args.sizes ?? '65,129')
    .split(',')
    .map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 16) throw new Error(`--sizes: expected integers ≥ 16 separated by commas, found '${s}'`);
      return n;
    });
  const repeats = intArg(args, 'repeats', 1);
  const warmup = intArg(args, 'warmup', 1);
  const layers = intArg(args, 'layers', PAPER.layers);
  const plainLayers = intArg(args, 'plain-layers', 4);
  const plainSize = intArg(args, 'plain-size', 65);
  const backend = backendOptions(args);
  const workerCounts = String(args.workers ?? '1')
    .split(',')
    .map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--workers: expected positive integers separated by commas (e.g. 1,2), found '${s}'`);
      return n;
    });
  if (backend.backend === 'webgpu' && workerCounts.some((n) => n > 1)) throw new Error('--workers: worker threads are for the CPU backends; use 1 with webgpu');
  const launches = intArg(args, 'launches', 2000);
  return { sizes, repeats, warmup, layers, plainLayers, plainSize, backend, workerCounts, launches };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { sizes, repeats, warmup, layers, plainLayers, plainSize, backend: backendOpts, workerCounts, launches } = parseOptions(args);
  const info = await initBackend(backendOpts);
  const backend = info.name;
  if (info.adapter) process.stderr.write(`WebGPU adapter: ${JSON.stringify(info.adapter)}\n`);
  const launchCostUs = launches > 0 ? await measureLaunchCost(launches) : undefined;
  if (launchCostUs !== undefined) process.stderr.write(`launch cost: ${launchCostUs.toFixed(1)} µs per kernel (${launches} one-element additions)\n`);
  const probe = new KernelProbe();
  probe.install();
  const rows: Row[] = [];
  const log = (row: Row) => {
    rows.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
  };

  if (plainLayers > 0) {
    const small = new Supernet({ ...PAPER, layers: plainLayers }, { name: 'plain_ratio', seed: 1 });
    for (const fused of [true, false]) {
      log(await measure(small, plainSize, fused, probe, { repeats, warmup, iteration: false, workers: workerCounts, backend }));
    }
    small.dispose();
  }
  const net = new Supernet({ ...PAPER, layers }, { name: 'paper', seed: 1 });
  for (const size of sizes) log(await measure(net, size, true, probe, { repeats, warmup, iteration: true, workers: workerCounts, backend }));
  net.dispose();
  probe.uninstall();

  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  process.stderr.write(`${formatReport(rows)}\nmax RSS ${(maxRssBytes / 1e9).toFixed(2)} GB\n`);
  // --results-name: a partial or exploratory run need not replace bench-results/search-step.json.
  writeResults(String(args['results-name'] ?? 'search-step'), {
    backend,
    ...(info.adapter ? { adapter: info.adapter } : {}),
    ...(launchCostUs !== undefined ? { launchCostUs } : {}),
    batch: BATCH,
    repeats,
    warmup,
    sizes,
    workers: workerCounts,
    rows,
    maxRssBytes,
  });
}

await main();
