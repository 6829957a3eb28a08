import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { KernelReplacements } from './replaced-kernels.js';
import { kernelPrims } from './prims.js';
import { isWasmHeapBackend, offsetOf, simdOnHeap, zeroedOutput } from './wasm-heap.js';

/**
 * Pooling gradients for the wasm backend. tfjs-backend-wasm 4.22's MaxPoolGrad and AvgPoolGrad are
 * scalar loops 13–22× slower than the forward pools (and its MaxPoolGrad drops the gradient of
 * windows whose values are all negative). Here:
 * - MaxPoolGrad (float32, C a multiple of 4): the hand-assembled SIMD `maxPoolGrad` (simd-reduce.ts)
 *   over runs of output pixels that share one rectangle of valid taps; dy goes to the first maximum
 *   of each window in row-major order, as on the cpu backend. Any stride and padding.
 * - AvgPoolGrad at stride 1: a depthwise convolution of dy with a constant 1/(kh·kw) filter (the
 *   pool's windows transposed are the same windows), which XNNPACK runs.
 * Anything else goes to the backend's own kernel.
 */
const BACKEND = 'wasm';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const fallback = (name: string, args: Parameters<KernelFunc>[0]): TensorInfo | TensorInfo[] => POOL_GRADIENT_KERNELS.fallback(name, args);

function poolInfo(inputShape: readonly number[], attrs: PoolAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(inputShape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
}

/** Whether our SIMD MaxPoolGrad takes an input of this shape and dtype on `backend` (it routes negative windows too). */
export function wasmMaxPoolGradIsExact(backend: unknown, x: { shape: readonly number[]; dtype: string }): boolean {
  return POOL_GRADIENT_KERNELS.hasOriginal('MaxPoolGrad') && x.dtype === 'float32' && x.shape[3]! % 4 === 0 && simdOnHeap(backend) != null;
}

/** The tap index range [t0, t1) of a window starting at `start` that lies inside [0, size). */
function validTaps(start: number, taps: number, size: number): [number, number] {
  return [Math.max(0, -start), Math.min(taps, size - start)];
}

/** Consecutive output columns whose windows have the same valid column taps. */
function columnRuns(info: tf.backend_util.Conv2DInfo): { j0: number; count: number; q0: number; q1: number }[] {
  const runs: { j0: number; count: number; q0: number; q1: number }[] = [];
  for (let j = 0; j < info.outWidth; j++) {
    const [q0, q1] = validTaps(j * info.strideWidth - info.padInfo.left, info.filterWidth, info.inWidth);
    const last = runs.at(-1);
    if (last && last.q0 === q0 && last.q1 === q1) last.count++;
    else runs.push({ j0: j, count: 1, q0, q1 });
  }
  return runs.filter((r) => r.q1 > r.q0);
}

const maxPoolGradKernel: KernelFunc = (args) => {
  const { dy, input, output } = args.inputs as { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
  if (!wasmMaxPoolGradIsExact(args.backend, input) || dy.dtype !== 'float32' || output.dtype !== 'float32') return fallback('MaxPoolGrad', args);
  const { k, b } = simdOnHeap(args.backend)!;
  const info = poolInfo(input.shape, args.attrs as unknown as PoolAttrs);
  const dx = zeroedOutput(b, [...input.shape]);
  // Offsets after the allocation (which may grow, and so move, the heap).
  const [xAt, yAt, dyAt, dxAt] = [input, output, dy, dx].map((t) => offsetOf(b, t)) as [number, number, number, number];
  const pixel = 4 * info.inChannels;
  const xRow = info.inWidth * pixel;
  const xImage = info.inHeight * xRow;
  const oRow = info.outWidth * pixel;
  const oImage = info.outHeight * oRow;
  const runs = columnRuns(info);
  for (let n = 0; n < info.batchSize; n++) {
    for (let i = 0; i < info.outHeight; i++) {
      const rowStart = i * info.strideHeight - info.padInfo.top;
      const [p0, p1] = validTaps(rowStart, info.filterHeight, info.inHeight);
      if (p1 <= p0) continue;
      for (const { j0, count, q0, q1 } of runs) {
        const firstTap = n * xImage + (rowStart + p0) * xRow + (j0 * info.strideWidth - info.padInfo.left + q0) * pixel;
        const out = n * oImage + i * oRow + j0 * pixel;
        k.maxPoolGrad(xAt + firstTap, yAt + out, dyAt + out, dxAt + firstTap, count, pixel, info.strideWidth * pixel, pixel, p1 - p0, q1 - q0, xRow, pixel);
      }
    }
  }
  return dx;
};

const avgPoolGradKernel: KernelFunc = (args) => {
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const info = poolInfo(input.shape, args.attrs as unknown as PoolAttrs);
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || dy.dtype !== 'float32') return fallback('AvgPoolGrad', args);
  const { filterHeight: kh, filterWidth: kw, inChannels: c } = info;
  const { top, left, bottom, right } = info.padInfo;
  const backend = args.backend;
  if (!isWasmHeapBackend(backend)) return fallback('AvgPoolGrad', args);
  // dx[h] = Σ_p dy[h + top − p] / (kh·kw): a correlation of dy padded by kh − 1 − top above and
  // kh − 1 − bottom below (likewise for the width) with the (symmetric) constant filter.
  const filter = backend.makeOutput([kh, kw, c, 1], 'float32');
  backend.typedArrayFromHeap(filter).fill(1 / (kh * kw));
  try {
    return kernelPrims(backend as unknown as KernelBackend, BACKEND).depthwise(dy, filter, [1, 1], [1, 1], [
      [kh - 1 - top, kh - 1 - bottom],
      [kw - 1 - left, kw - 1 - right],
    ]);
  } finally {
    backend.disposeData(filter.dataId);
  }
};

const POOL_GRADIENT_KERNELS = new KernelReplacements(BACKEND, [
  ['MaxPoolGrad', maxPoolGradKernel],
  ['AvgPoolGrad', avgPoolGradKernel],
]);

export const WASM_POOL_GRADIENT_KERNELS = POOL_GRADIENT_KERNELS.configs;

/** Keeps tfjs-backend-wasm's kernels that ours replace (call before replacing them). */
export function rememberOriginalPoolGradientKernels(): void {
  POOL_GRADIENT_KERNELS.remember();
}
