/**
 * Convolution kernels benchmark: forward and backward (input + filter gradients) time and GFLOP/s
 * of the convolutions Auto-DeepLab uses, on each available backend.
 *
 *   npx tsx tools/bench/kernels.ts [--backends wasm,cpu] [--repeats N] [--warmup N] [--shapes small|all]
 *
 * Times are medians (and minima, robust on a loaded machine); GFLOP/s use the medians.
 * The backward pass is timed through the registered gradient (exactly what autodiff runs), given dy.
 * cpu is slow: by default it runs only the small shape (use --shapes all to force both).
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, Tensor, Tensor4D } from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../../packages/core/src/index.ts';
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
    const y = c.depthwise
      ? tf.depthwiseConv2d(x, filter, 1, 'same', 'NHWC', c.dilation)
      : tf.conv2d(x, filter, 1, 'same', 'NHWC', c.dilation);
    y.dataSync();
    y.dispose();
  };
  const grad = tf.getGradient(kernelName);
  if (grad == null) throw new Error(`no gradient registered for ${kernelName}`);
  const backward = () => {
    const fns = grad.gradFunc(dy, [x, filter], attrs as unknown as NamedAttrMap) as Record<string, () => Tensor>;
    const dx = (fns.x as () => Tensor)();
    const df = (fns.filter as () => Tensor)();
    dx.dataSync();
    df.dataSync();
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

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const repeats = intArg(args, 'repeats', 10);
  const warmup = intArg(args, 'warmup', 2);
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
