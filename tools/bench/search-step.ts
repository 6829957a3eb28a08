/**
 * Search-step benchmark: one first-order bilevel iteration of the paper's supernet (L = 12, B = 5,
 * F = 8, scales 4–32, 19 classes), batch 2, on wasm: the weight step (forward + backward on one batch,
 * SGD with momentum) then the architecture step (forward + backward on another batch, Adam on α, β).
 *
 *   npx tsx tools/bench/search-step.ts [--sizes 65,129,321] [--repeats 1] [--warmup 1] [--layers 12]
 *                                      [--plain-layers 4] [--plain-size 65] [--backend wasm]
 *
 * Per size: seconds per iteration (median of --repeats), forward-only and forward+backward seconds
 * (one run each, after --warmup forwards), kernel launches per forward and per forward+backward
 * (every `engine.runKernel` call), the kernels taking most time, the peak of tf.memory().numBytes
 * (sampled every 32 kernels) and the process' max RSS (at the end: the maximum over all sizes). The plain reference forward is measured on a
 * smaller trellis (`--plain-layers`, at `--plain-size`) next to the stacked one for the ratio: the
 * plain path of the full supernet takes minutes per step.
 */
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { Rng, initBackend, type BackendName } from '../../packages/core/src/index.ts';
import { Supernet } from '../../packages/search-space/src/index.ts';
import { formatTable, intArg, parseArgs, timeIt, writeResults } from './common.ts';

const PAPER = { layers: 12, blocks: 5, filterMultiplier: 8, scales: [4, 8, 16, 32] as (4 | 8 | 16 | 32)[], numClasses: 19 };
const BATCH = 2;

/** Counts kernel launches and samples the tensor memory while installed. */
class KernelProbe {
  kernels = 0;
  peakBytes = 0;
  /** Time per kernel name while `timing` (nested launches are counted in their parent too). */
  timing = false;
  readonly times = new Map<string, { count: number; ms: number }>();
  private readonly engine = tf.engine() as unknown as { runKernel: (...args: unknown[]) => unknown };
  private readonly original = this.engine.runKernel;

  install(): void {
    const original = this.original;
    const engine = this.engine;
    this.engine.runKernel = (...args: unknown[]) => {
      if (++this.kernels % 32 === 0) this.peakBytes = Math.max(this.peakBytes, tf.memory().numBytes);
      if (!this.timing) return original.apply(engine, args);
      const start = performance.now();
      try {
        return original.apply(engine, args);
      } finally {
        const name = String(args[0]);
        const entry = this.times.get(name) ?? { count: 0, ms: 0 };
        entry.count++;
        entry.ms += performance.now() - start;
        this.times.set(name, entry);
      }
    };
  }

  reset(): void {
    this.times.clear();
    this.kernels = 0;
    this.peakBytes = tf.memory().numBytes;
  }

  uninstall(): void {
    this.engine.runKernel = this.original;
  }
}

function batch(size: number, seed: number, classes: number) {
  const rng = new Rng(seed);
  const x = tf.tensor4d(rng.normals(BATCH * size * size * 3), [BATCH, size, size, 3]);
  const labels = tf.tidy(() =>
    tf.oneHot(tf.tensor1d(Array.from({ length: BATCH * size * size }, () => rng.int(classes)), 'int32'), classes).reshape([BATCH, size, size, classes]),
  );
  return { x, labels };
}

const loss = (logits: tf.Tensor, labels: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;

interface Row {
  config: string;
  size: number;
  path: 'stacked' | 'plain';
  iterationS?: number;
  forwardS: number;
  forwardBackwardS: number;
  kernelsForward: number;
  kernelsForwardBackward: number;
  peakTensorBytes: number;
  loadAverage1m: number;
  /** The kernels taking most time in one forward + backward (ms in total, launches). */
  topKernels: { name: string; ms: number; count: number }[];
}

async function measure(net: Supernet, size: number, fused: boolean, probe: KernelProbe, opts: { repeats: number; warmup: number; iteration: boolean }): Promise<Row> {
  const train = batch(size, 1, net.config.numClasses);
  const valid = batch(size, 2, net.config.numClasses);
  const weights = net.weightParameters();
  const arch = net.archParameters();
  const forward = () => tf.tidy(() => net.forward(train.x, { fused }).sum().dataSync());
  const forwardBackward = (x: tf.Tensor4D, labels: tf.Tensor, vars: tf.Variable[]) => {
    const { value, grads } = tf.variableGrads(() => loss(net.forward(x, { fused }), labels), vars);
    value.dataSync();
    return { value, grads };
  };

  // Warm-up (tfjs-backend-wasm creates its XNNPACK operators on first use), then one probed and
  // timed forward and one probed and timed forward + backward (the probe's cost is ~1 µs a kernel).
  for (let i = 0; i < opts.warmup; i++) forward();
  probe.reset();
  let start = performance.now();
  forward();
  const forwardS = (performance.now() - start) / 1000;
  const kernelsForward = probe.kernels;
  probe.reset();
  probe.timing = true;
  start = performance.now();
  const once = forwardBackward(train.x, train.labels, weights);
  tf.dispose([once.value, ...Object.values(once.grads)]);
  const forwardBackwardS = (performance.now() - start) / 1000;
  probe.timing = false;
  const kernelsForwardBackward = probe.kernels;
  const peakTensorBytes = probe.peakBytes;
  const topKernels = [...probe.times]
    .map(([name, t]) => ({ name, ms: Math.round(t.ms), count: t.count }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 12);

  let iterationS: number | undefined;
  if (opts.iteration) {
    const sgd = tf.train.momentum(0.025, 0.9);
    const adam = tf.train.adam(3e-3, 0.5, 0.999);
    const iteration = () => {
      const w = forwardBackward(train.x, train.labels, weights);
      sgd.applyGradients(w.grads as never);
      tf.dispose([w.value, ...Object.values(w.grads)]);
      const a = forwardBackward(valid.x, valid.labels, arch);
      adam.applyGradients(a.grads as never);
      tf.dispose([a.value, ...Object.values(a.grads)]);
    };
    iterationS = (await timeIt(iteration, { repeats: opts.repeats, warmup: 0 })).medianMs / 1000;
    sgd.dispose();
    adam.dispose();
  }
  tf.dispose([train.x, train.labels, valid.x, valid.labels]);
  const { layers, blocks, filterMultiplier, scales } = net.config;
  return {
    config: `L=${layers} B=${blocks} F=${filterMultiplier} scales=${scales.join('/')}`,
    size,
    path: fused ? 'stacked' : 'plain',
    iterationS,
    forwardS,
    forwardBackwardS,
    kernelsForward,
    kernelsForwardBackward,
    peakTensorBytes,
    loadAverage1m: loadavg()[0]!,
    topKernels,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const sizes = String(args.sizes ?? '65,129').split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 16) throw new Error(`--sizes: expected integers ≥ 16 separated by commas, found '${s}'`);
    return n;
  });
  const repeats = intArg(args, 'repeats', 1);
  const warmup = intArg(args, 'warmup', 1);
  const layers = intArg(args, 'layers', PAPER.layers);
  const plainLayers = intArg(args, 'plain-layers', 4);
  const plainSize = intArg(args, 'plain-size', 65);
  const backend = String(args.backend ?? 'wasm') as BackendName;
  await initBackend({ backend });
  const probe = new KernelProbe();
  probe.install();
  const rows: Row[] = [];
  const log = (row: Row) => {
    rows.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
  };

  if (plainLayers > 0) {
    const small = new Supernet({ ...PAPER, layers: plainLayers }, { name: 'plain_ratio', seed: 1 });
    for (const fused of [true, false]) log(await measure(small, plainSize, fused, probe, { repeats, warmup, iteration: false }));
    small.dispose();
  }
  const net = new Supernet({ ...PAPER, layers }, { name: 'paper', seed: 1 });
  for (const size of sizes) log(await measure(net, size, true, probe, { repeats, warmup, iteration: true }));
  net.dispose();
  probe.uninstall();

  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  process.stderr.write(
    formatTable(
      ['config', 'size', 'path', 'iter s', 'fwd s', 'fwd+bwd s', 'kernels fwd', 'kernels fwd+bwd', 'peak tensor GB', 'load'],
      rows.map((r) => [
        r.config,
        String(r.size),
        r.path,
        r.iterationS?.toFixed(2) ?? '-',
        r.forwardS.toFixed(2),
        r.forwardBackwardS.toFixed(2),
        String(r.kernelsForward),
        String(r.kernelsForwardBackward),
        (r.peakTensorBytes / 1e9).toFixed(2),
        r.loadAverage1m.toFixed(2),
      ]),
    ) + `\nmax RSS ${(maxRssBytes / 1e9).toFixed(2)} GB\n`,
  );
  writeResults('search-step', { backend, batch: BATCH, repeats, warmup, sizes, rows, maxRssBytes });
}

await main();
