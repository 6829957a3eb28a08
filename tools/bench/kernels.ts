/**
 * Convolution kernels benchmark: forward and backward (input + filter gradients) time and GFLOP/s
 * of the convolutions Auto-DeepLab uses, on each available backend.
 *
 *   npx tsx tools/bench/kernels.ts [--backends wasm,cpu] [--repeats N] [--warmup N] [--shapes small|all]
 *   npx tsx tools/bench/kernels.ts --suite filter-grads [--repeats N] [--warmup N]
 *
 * Times are medians (and minima, robust on a loaded machine); GFLOP/s use the medians.
 * The backward pass is timed through the registered gradient (exactly what autodiff runs), given dy.
 * cpu is slow: by default it runs only the small shape (use --shapes all to force both).
 *
 * `--suite filter-grads` (wasm only) times, per shape and filter, the forward kernel, the input- and
 * filter-gradient kernels as registered, for regular convolutions the SIMD outer-product filter
 * gradient forced on, and the filter gradient through the XNNPACK formulation (forward convolutions;
 * what the depthwise kernel used before its SIMD reduction), on the benchmark shapes and the
 * supernet's small ones (C = 8…64, 5×5…81×81; 1×1 up to 320 channels). Minima and medians.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, Tensor, Tensor4D } from '@tensorflow/tfjs';
import { initBackend, runKernel, type BackendName } from '@autodeeplab/core';
import { conv2dBackpropFilter, convGeometry, depthwiseBackpropFilter, kernelPrims, kernelTuning } from '@autodeeplab/kernels';
import { formatTable, intArg, parseArgs, timeIt, writeResults } from './common.ts';

interface ConvCase {
  name: string;
  kernel: number;
  depthwise: boolean;
  dilation: number;
}

const CASES: ConvCase[] = [
  { name: 'conv 3x3', kernel: 3, depthwise: false, dilation: 1 },
  { name: 'depthwise 3x3', kernel: 3, depthwise: true, dilation: 1 },
  { name: 'depthwise 5x5', kernel: 5, depthwise: true, dilation: 1 },
  { name: 'dilated 3x3 r2', kernel: 3, depthwise: false, dilation: 2 },
  { name: 'dilated 5x5 r2', kernel: 5, depthwise: false, dilation: 2 },
];

const SHAPES: Array<[number, number, number, number]> = [
  [2, 64, 64, 32],
  [2, 128, 128, 16],
];

interface Row {
  backend: string;
  op: string;
  shape: number[];
  /** Medians. */
  forwardMs: number;
  backwardMs: number;
  ratio: number;
  /** Best runs: far less sensitive than medians to other processes on a loaded machine. */
  forwardMinMs: number;
  backwardMinMs: number;
  ratioMin: number;
  forwardGflops: number;
  backwardGflops: number;
}

/** Backends whose kernels have finished when the op returns. */
const SYNCHRONOUS_BACKENDS = new Set(['wasm', 'cpu', 'tensorflow']);

/**
 * Waits for `ts`, reading them back only where the backend computes asynchronously. A read-back
 * copies the tensor into freshly allocated JavaScript memory, whose first touch can cost more than
 * a small kernel: timing it would measure the allocator, not the kernel (docs/design/kernels.md).
 */
function settle(...ts: Tensor[]): void {
  if (SYNCHRONOUS_BACKENDS.has(tf.getBackend())) return;
  for (const t of ts) t.dataSync();
}

/** Multiply-adds ×2 of the forward pass ('same' padding, stride 1); the backward pass does twice as many. */
function forwardFlops(c: ConvCase, [n, h, w, ch]: number[]): number {
  const taps = c.kernel * c.kernel;
  return 2 * (n as number) * (h as number) * (w as number) * (ch as number) * taps * (c.depthwise ? 1 : (ch as number));
}

async function benchCase(backend: string, c: ConvCase, shape: [number, number, number, number], opts: { repeats: number; warmup: number }): Promise<Row> {
  const [, , , ch] = shape;
  const x = tf.randomNormal(shape) as Tensor4D;
  const filter = tf.randomNormal([c.kernel, c.kernel, ch, c.depthwise ? 1 : ch]) as Tensor4D;
  const dy = tf.randomNormal(shape) as Tensor4D;
  const kernelName = c.depthwise ? 'DepthwiseConv2dNative' : 'Conv2D';
  const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [c.dilation, c.dilation], dimRoundingMode: undefined };
  const forward = () => {
    const y = c.depthwise ? tf.depthwiseConv2d(x, filter, 1, 'same', 'NHWC', c.dilation) : tf.conv2d(x, filter, 1, 'same', 'NHWC', c.dilation);
    settle(y);
    y.dispose();
  };
  const grad = tf.getGradient(kernelName);
  if (grad == null) throw new Error(`no gradient registered for ${kernelName}`);
  const backward = () => {
    const fns = grad.gradFunc(dy, [x, filter], attrs as unknown as NamedAttrMap) as Record<string, () => Tensor>;
    const dx = (fns.x as () => Tensor)();
    const df = (fns.filter as () => Tensor)();
    settle(dx, df);
    tf.dispose([dx, df]);
  };
  const before = tf.memory().numTensors;
  const fwd = await timeIt(forward, opts);
  const bwd = await timeIt(backward, opts);
  tf.dispose([x, filter, dy]);
  if (tf.memory().numTensors !== before - 3) throw new Error(`${backend} ${c.name}: tensors leaked`);
  const flops = forwardFlops(c, shape);
  return {
    backend,
    op: c.name,
    shape,
    forwardMs: fwd.medianMs,
    backwardMs: bwd.medianMs,
    ratio: bwd.medianMs / fwd.medianMs,
    forwardMinMs: fwd.minMs,
    backwardMinMs: bwd.minMs,
    ratioMin: bwd.minMs / fwd.minMs,
    forwardGflops: flops / fwd.medianMs / 1e6,
    backwardGflops: (2 * flops) / bwd.medianMs / 1e6,
  };
}

interface FilterGradRow {
  op: string;
  shape: number[];
  macs: number;
  forwardMinMs: number;
  forwardMedianMs: number;
  inputGradMinMs: number;
  inputGradMedianMs: number;
  kernelMedianMs: number;
  xnnpackMinMs: number;
  xnnpackMedianMs: number;
  /** What the registered kernel does now (it picks one of the two). */
  kernelMinMs: number;
  /** Regular convolutions: the input gradient's XNNPACK formulation, forced. */
  inputGradXnnpackMinMs: number | null;
  inputGradXnnpackMedianMs: number | null;
}

const FILTER_GRAD_SHAPES: Array<[number, number, number, number]> = [
  ...SHAPES,
  [2, 81, 81, 8],
  [2, 65, 65, 8],
  [2, 33, 33, 8],
  [2, 33, 33, 16],
  [2, 17, 17, 16],
  [2, 17, 17, 32],
  [2, 9, 9, 32],
  [2, 9, 9, 64],
  [2, 5, 5, 64],
];

interface FilterGradCase {
  name: string;
  kernel: number;
  depthwise: boolean;
  dilation: number;
}

const FILTER_GRAD_CASES: FilterGradCase[] = [
  { name: 'conv 1x1', kernel: 1, depthwise: false, dilation: 1 },
  { name: 'conv 3x3', kernel: 3, depthwise: false, dilation: 1 },
  { name: 'conv 3x3 r2', kernel: 3, depthwise: false, dilation: 2 },
  { name: 'conv 5x5 r2', kernel: 5, depthwise: false, dilation: 2 },
  { name: 'depthwise 3x3', kernel: 3, depthwise: true, dilation: 1 },
  { name: 'depthwise 5x5', kernel: 5, depthwise: true, dilation: 1 },
];

/** The heads' and stacked edges' wide 1×1 convolutions (up to 5 blocks × 64 channels). */
const WIDE_CASES: Array<{ c: FilterGradCase; shape: [number, number, number, number] }> = [
  { c: { name: 'conv 1x1', kernel: 1, depthwise: false, dilation: 1 }, shape: [2, 5, 5, 320] },
  { c: { name: 'conv 1x1', kernel: 1, depthwise: false, dilation: 1 }, shape: [2, 9, 9, 160] },
  { c: { name: 'conv 1x1', kernel: 1, depthwise: false, dilation: 1 }, shape: [2, 17, 17, 80] },
  { c: { name: 'conv 1x1', kernel: 1, depthwise: false, dilation: 1 }, shape: [2, 33, 33, 40] },
];

/** The filter-gradient suite's table: every path's min / median ms per shape. */
function filterGradTable(rows: readonly FilterGradRow[]): string {
  return formatTable(
    ['op', 'shape (NHWC)', 'MMACs', 'fwd min/med', 'dx kernel min/med', 'dx xnnpack min/med', 'dW kernel min/med', 'dW xnnpack min/med', '(dx+dW)/fwd min'],
    rows.map((r) => [
      r.op,
      `[${r.shape.join(',')}]`,
      (r.macs / 1e6).toFixed(2),
      `${r.forwardMinMs.toFixed(2)} / ${r.forwardMedianMs.toFixed(2)}`,
      `${r.inputGradMinMs.toFixed(2)} / ${r.inputGradMedianMs.toFixed(2)}`,
      r.inputGradXnnpackMinMs == null || r.inputGradXnnpackMedianMs == null
        ? '-'
        : `${r.inputGradXnnpackMinMs.toFixed(2)} / ${r.inputGradXnnpackMedianMs.toFixed(2)}`,
      `${r.kernelMinMs.toFixed(2)} / ${r.kernelMedianMs.toFixed(2)}`,
      `${r.xnnpackMinMs.toFixed(2)} / ${r.xnnpackMedianMs.toFixed(2)}`,
      ((r.inputGradMinMs + r.kernelMinMs) / r.forwardMinMs).toFixed(2),
    ]),
  );
}

async function filterGradSuite(opts: { repeats: number; warmup: number }): Promise<void> {
  await initBackend({ backend: 'wasm' });
  const backend = tf.backend();
  const P = kernelPrims(backend, 'wasm');
  const rows: FilterGradRow[] = [];
  const minOf = async (fn: () => void) => timeIt(fn, opts);
  const runs = [...FILTER_GRAD_SHAPES.flatMap((shape) => FILTER_GRAD_CASES.map((c) => ({ c, shape }))), ...WIDE_CASES];
  for (const { c, shape } of runs) {
    const ch = shape[3];
    const filterShape: [number, number, number, number] = [c.kernel, c.kernel, ch, c.depthwise ? 1 : ch];
    const x = tf.randomNormal(shape) as Tensor4D;
    const filter = tf.randomNormal(filterShape) as Tensor4D;
    const dy = tf.randomNormal(shape) as Tensor4D;
    const g = convGeometry(shape, filterShape, 1, c.dilation, 'same', undefined, c.depthwise);
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [c.dilation, c.dilation], dimRoundingMode: undefined };
    const fwdName = c.depthwise ? 'DepthwiseConv2dNative' : 'Conv2D';
    const inName = c.depthwise ? 'DepthwiseConv2dNativeBackpropInput' : 'Conv2DBackpropInput';
    const filterName = c.depthwise ? 'DepthwiseConv2dNativeBackpropFilter' : 'Conv2DBackpropFilter';
    const runAndFree = (name: string, inputs: Record<string, Tensor>, extra: Record<string, unknown>) => () => {
      const t = runKernel<Tensor>(name, inputs, { ...attrs, ...extra } as unknown as NamedAttrMap);
      settle(t);
      t.dispose();
    };
    const fwd = await minOf(runAndFree(fwdName, { x, filter }, {}));
    const inGrad = await minOf(runAndFree(inName, { dy, filter }, { inputShape: shape }));
    const kernel = await minOf(runAndFree(filterName, { x, dy }, { filterShape }));
    // The input gradient's XNNPACK formulation (the SIMD path, where it applies, is the kernel's default).
    let inXnn: { minMs: number; medianMs: number } | null = null;
    if (!c.depthwise) {
      kernelTuning.convInputGradSimd = 'never';
      inXnn = await minOf(runAndFree(inName, { dy, filter }, { inputShape: shape }));
      kernelTuning.convInputGradSimd = 'auto';
    }
    const xnn = await minOf(() => {
      const out = (c.depthwise ? depthwiseBackpropFilter : conv2dBackpropFilter)(P, x, dy, g);
      backend.disposeData(out.dataId); // complete on return: the wasm kernels are synchronous
    });
    tf.dispose([x, filter, dy]);
    const macs = c.kernel * c.kernel * shape[0] * shape[1] * shape[2] * ch * (c.depthwise ? 1 : ch);
    rows.push({
      op: c.name,
      shape,
      macs,
      forwardMinMs: fwd.minMs,
      forwardMedianMs: fwd.medianMs,
      inputGradMinMs: inGrad.minMs,
      inputGradMedianMs: inGrad.medianMs,
      xnnpackMinMs: xnn.minMs,
      xnnpackMedianMs: xnn.medianMs,
      kernelMinMs: kernel.minMs,
      kernelMedianMs: kernel.medianMs,
      inputGradXnnpackMinMs: inXnn?.minMs ?? null,
      inputGradXnnpackMedianMs: inXnn?.medianMs ?? null,
    });
    process.stderr.write(`${c.name} [${shape.join(',')}]: dW kernel ${kernel.minMs.toFixed(2)} ms, xnnpack ${xnn.minMs.toFixed(2)} ms\n`);
  }
  const table = filterGradTable(rows);
  process.stderr.write('\n' + table + '\n\n');
  writeResults('kernels-filter-grads', { options: opts, table, results: rows });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const repeats = intArg(args, 'repeats', 10);
  const warmup = intArg(args, 'warmup', 2);
  if (args.suite === 'filter-grads') return filterGradSuite({ repeats, warmup });
  if (args.suite !== undefined && args.suite !== 'conv') throw new Error(`--suite: expected conv or filter-grads, found '${String(args.suite)}'`);
  const shapesArg = args.shapes ?? 'default';
  if (!['default', 'small', 'all'].includes(String(shapesArg))) throw new Error(`--shapes: expected small or all, found '${String(shapesArg)}'`);
  const requested = typeof args.backends === 'string' ? args.backends.split(',').map((b) => b.trim()) : ['tensorflow', 'wasm', 'cpu'];
  const rows: Row[] = [];
  const skipped: Record<string, string> = {};
  for (const backend of requested) {
    if (!['tensorflow', 'wasm', 'cpu'].includes(backend)) throw new Error(`--backends: unknown backend '${backend}' (expected tensorflow, wasm, cpu)`);
    try {
      await initBackend({ backend: backend as BackendName });
    } catch (error) {
      skipped[backend] = error instanceof Error ? error.message : String(error);
      process.stderr.write(`skipping ${backend}: ${skipped[backend]}\n`);
      continue;
    }
    const small = shapesArg === 'small' || (shapesArg === 'default' && backend === 'cpu');
    for (const shape of small ? SHAPES.slice(0, 1) : SHAPES) {
      for (const c of CASES) {
        const row = await benchCase(backend, c, shape, { repeats, warmup });
        rows.push(row);
        process.stderr.write(`${backend} ${c.name} [${shape.join(',')}]: fwd ${row.forwardMs.toFixed(1)} ms, bwd ${row.backwardMs.toFixed(1)} ms\n`);
      }
    }
  }
  const table = formatTable(
    ['backend', 'op', 'shape (NHWC)', 'fwd ms', 'bwd ms', 'bwd/fwd', 'fwd min', 'bwd min', 'min ratio', 'fwd GFLOP/s', 'bwd GFLOP/s'],
    rows.map((r) => [
      r.backend,
      r.op,
      `[${r.shape.join(',')}]`,
      r.forwardMs.toFixed(2),
      r.backwardMs.toFixed(2),
      r.ratio.toFixed(2),
      r.forwardMinMs.toFixed(2),
      r.backwardMinMs.toFixed(2),
      r.ratioMin.toFixed(2),
      r.forwardGflops.toFixed(2),
      r.backwardGflops.toFixed(2),
    ]),
  );
  process.stderr.write('\n' + table + '\n\n');
  writeResults('kernels', { options: { repeats, warmup, shapes: shapesArg, backends: requested }, skipped, table, results: rows });
}

await main();
