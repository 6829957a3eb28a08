import type * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { hasOriginalKernel, runOriginalKernel } from '../replaced-kernels.js';
import { offsetOf, simdOnHeap, zeroedOutput } from '../wasm-heap.js';
import { poolInfo, type PoolAttrs } from './pool-info.js';

/**
 * MaxPoolGrad on wasm, replacing tfjs-backend-wasm 4.22's scalar loop (which also drops the
 * gradient of windows whose values are all negative). Float32 with C a multiple of 4: the
 * hand-assembled SIMD `maxPoolGrad` over runs of output pixels that share one rectangle of valid
 * taps; dy goes to the first maximum of each window in row-major order, as on the cpu backend. Any
 * stride and padding. Anything else goes to the backend's own kernel.
 */

/** Whether our SIMD MaxPoolGrad takes an input of this shape and dtype on `backend` (it routes negative windows too). */
export function wasmMaxPoolGradIsExact(backend: unknown, x: { shape: readonly number[]; dtype: string }): boolean {
  return hasOriginalKernel('wasm', 'MaxPoolGrad') && x.dtype === 'float32' && x.shape[3]! % 4 === 0 && simdOnHeap(backend) != null;
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

const maxPoolGrad: KernelFunc = (args) => {
  const { dy, input, output } = args.inputs as { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
  if (!wasmMaxPoolGradIsExact(args.backend, input) || dy.dtype !== 'float32' || output.dtype !== 'float32') {
    return runOriginalKernel('wasm', 'MaxPoolGrad', args);
  }
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

export const maxPoolGradConfig: KernelConfig = { kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: maxPoolGrad };
