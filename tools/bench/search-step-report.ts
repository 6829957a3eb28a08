/** The search-step benchmark's rows and the two tables it prints (see search-step.ts). */
import type { ParallelStepStats } from '@autodeeplab/optim';
import { formatTable } from './common.ts';

/** One bilevel iteration timed with `workers` backend instances. */
export interface IterationRow {
  workers: number;
  /** Median seconds per iteration over --repeats. */
  iterationS: number;
  samplesS: number[];
  /** Kernels (tfjs kernel calls) per iteration. */
  kernels: number;
  /** GPU compute dispatches and queue submissions per iteration (webgpu). */
  launches?: number;
  submits?: number;
  /** Peak of tf.memory().numBytesInGPU during the timed iterations, and the GPU buffers allocated after them (webgpu). */
  peakGpuBytes?: number;
  gpuAllocatedBytes?: number;
  /**
   * CPU seconds per iteration of the whole process (every thread: user + system). On a shared
   * machine the wall time also counts other processes' use of the cores; this does not.
   */
  cpuS: number;
  /**
   * Minor page faults per iteration (whole process): memory the process takes fresh from the OS,
   * whose first touch is far dearer than a re-touch (see docs/benchmarks.md).
   */
  minorFaults: number;
  /** Seconds to start the pool (workers build their supernet copy); absent for 1. */
  poolStartS?: number;
  /** GradientWorkerPool.lastStep of the last timed weight step and architecture step (ms). */
  weightStep?: ParallelStepStats;
  archStep?: ParallelStepStats;
  /** Peak process RSS (main thread + workers) sampled during the timed iterations. */
  peakRssBytes: number;
  loadAverage1mBefore: number;
  loadAverage1mAfter: number;
}

export interface Row {
  config: string;
  size: number;
  path: 'stacked' | 'plain';
  /** Seconds per iteration on the main thread alone (workers = 1), when measured. */
  iterationS?: number;
  /** Seconds per iteration for each --workers count. */
  iterations?: IterationRow[];
  forwardS: number;
  forwardBackwardS: number;
  kernelsForward: number;
  kernelsForwardBackward: number;
  /** GPU compute dispatches per forward and per forward + backward (webgpu). */
  launchesForward?: number;
  launchesForwardBackward?: number;
  /** Peak of tf.memory().numBytes (sampled every 32 kernels) during the forward + backward. */
  peakTensorBytes: number;
  /**
   * Peak memory of the forward + backward (gradients of every parameter) on top of the weights and
   * inputs, followed through the allocator (trackMemory of @autodeeplab/core; wasm: heap buffers).
   */
  peakStepBytes: number;
  memorySource: string;
  /** estimateCost(...).trainingPeakBytes for the stacked rows. */
  estimatedPeakBytes?: number;
  loadAverage1m: number;
  /** The kernels taking most time in one forward + backward (ms in total, launches). */
  topKernels: { name: string; ms: number; count: number }[];
}

/** Per configuration: times, kernel counts and memory; per worker count: the iteration's parts. */
export function formatReport(rows: readonly Row[]): string {
  return (
    formatTable(
      [
        'config',
        'size',
        'path',
        'iter s',
        'fwd s',
        'fwd+bwd s',
        'kernels fwd',
        'kernels fwd+bwd',
        'launches fwd+bwd',
        'peak tensor GB',
        'step peak GB',
        'estimated GB',
        'load',
      ],
      rows.map((r) => [
        r.config,
        String(r.size),
        r.path,
        r.iterationS?.toFixed(2) ?? '-',
        r.forwardS.toFixed(2),
        r.forwardBackwardS.toFixed(2),
        String(r.kernelsForward),
        String(r.kernelsForwardBackward),
        r.launchesForwardBackward === undefined ? '-' : String(r.launchesForwardBackward),
        (r.peakTensorBytes / 1e9).toFixed(2),
        `${(r.peakStepBytes / 1e9).toFixed(3)} (${r.memorySource})`,
        r.estimatedPeakBytes === undefined ? '-' : (r.estimatedPeakBytes / 1e9).toFixed(3),
        r.loadAverage1m.toFixed(2),
      ]),
    ) +
    '\n\n' +
    formatTable(
      ['size', 'workers', 'iter s', 'cpu s', 'kernels', 'launches', 'GPU peak GB', 'speed-up', 'pool start s'].concat([
        'w: sync / main / wait / combine s',
        'a: sync / main / wait / combine s',
        'peak RSS GB',
        'load',
      ]),
      rows.flatMap((r) =>
        (r.iterations ?? []).map((it) => {
          const single = r.iterations!.find((x) => x.workers === 1);
          const s = (st?: ParallelStepStats) => (st ? [st.syncMs, st.mainMs, st.waitMs, st.combineMs].map((ms) => (ms / 1000).toFixed(2)).join(' / ') : '-');
          return [
            String(r.size),
            String(it.workers),
            it.iterationS.toFixed(2),
            it.cpuS.toFixed(1),
            String(it.kernels),
            it.launches === undefined ? '-' : String(it.launches),
            it.peakGpuBytes === undefined ? '-' : (it.peakGpuBytes / 1e9).toFixed(2),
            single ? (single.iterationS / it.iterationS).toFixed(2) : '-',
            it.poolStartS?.toFixed(1) ?? '-',
            s(it.weightStep),
            s(it.archStep),
            (it.peakRssBytes / 1e9).toFixed(2),
            `${it.loadAverage1mBefore.toFixed(1)}→${it.loadAverage1mAfter.toFixed(1)}`,
          ];
        }),
      ),
    )
  );
}
