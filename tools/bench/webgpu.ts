/**
 * What the benchmarks need to measure a GPU backend: the backend flags (`--backend`, `--dawn-backend`,
 * `--webgpu-adapter`), a counter of the compute dispatches tfjs's webgpu backend records, its GPU
 * memory, the cost of one kernel launch, and a probe that follows kernels, launches and memory.
 *
 * On webgpu the work is queued and runs later: a timed region must end with an async read
 * (`await t.data()`) of a value that depends on the work; `dataSync` throws there in Node.
 */
import * as tf from '@tensorflow/tfjs';
import { parseAdapterKind, parseBackendName, parseDawnBackend, watchKernels, type InitBackendOptions } from '@autodeeplab/core';

/** `--backend` (default wasm), `--dawn-backend`, `--webgpu-adapter`, as core's `initBackend` takes them. */
export function backendOptions(args: Record<string, string | true>, fallback = 'wasm'): InitBackendOptions {
  const text = (name: string): string | undefined => {
    const value = args[name];
    if (value === true) throw new Error(`--${name}: expected a value`);
    return value;
  };
  const backend = parseBackendName(text('backend') ?? fallback, '--backend');
  const dawnBackend = text('dawn-backend');
  const adapter = text('webgpu-adapter');
  const webgpu = {
    ...(dawnBackend ? { dawnBackend: parseDawnBackend(dawnBackend, '--dawn-backend') } : {}),
    ...(adapter ? { adapter: parseAdapterKind(adapter, '--webgpu-adapter') } : {}),
  };
  return { backend, webgpu };
}

/** The parts of tfjs's WebGPUBackend that are counted (it records one compute dispatch per call). */
interface RecordingBackend {
  recordAndSubmit: (...args: unknown[]) => void;
  submitQueue: () => void;
}

function recordingBackend(): RecordingBackend | undefined {
  const backend = tf.backend() as unknown as Partial<RecordingBackend>;
  return tf.getBackend() === 'webgpu' && typeof backend.recordAndSubmit === 'function' && typeof backend.submitQueue === 'function'
    ? (backend as RecordingBackend)
    : undefined;
}

/** Compute dispatches (GPU kernel launches) and queue submissions of the webgpu backend. */
export interface LaunchCounter {
  dispatches: number;
  submits: number;
  reset(): void;
  uninstall(): void;
}

/**
 * Counts every dispatch the webgpu backend records (tfjs's kernels and ours, which run through its
 * `runWebGPUProgram` too) and every queue submission; undefined on other backends, where a kernel
 * is a launch (count them with core's `watchKernels`).
 */
export function installLaunchCounter(): LaunchCounter | undefined {
  const backend = recordingBackend();
  if (!backend) return undefined;
  const record = backend.recordAndSubmit;
  const submit = backend.submitQueue;
  const counter: LaunchCounter = {
    dispatches: 0,
    submits: 0,
    reset() {
      counter.dispatches = 0;
      counter.submits = 0;
    },
    uninstall() {
      backend.recordAndSubmit = record;
      backend.submitQueue = submit;
    },
  };
  backend.recordAndSubmit = function (this: unknown, ...args: unknown[]) {
    counter.dispatches++;
    return record.apply(this, args);
  };
  backend.submitQueue = function (this: unknown) {
    counter.submits++;
    return submit.call(this);
  };
  return counter;
}

/** GPU buffer bytes held by tensors and allocated in all (pooled buffers included); undefined off webgpu. */
export interface GpuMemory {
  numBytesInGPU: number;
  numBytesAllocatedInGPU: number;
}

export function gpuMemory(): GpuMemory | undefined {
  const info = tf.memory() as tf.MemoryInfo & Partial<GpuMemory>;
  if (info.numBytesInGPU === undefined) return undefined;
  return { numBytesInGPU: info.numBytesInGPU, numBytesAllocatedInGPU: info.numBytesAllocatedInGPU ?? 0 };
}

/**
 * Microseconds per kernel launch: `launches` one-element additions in a chain, ended by one async
 * read (which waits for the GPU), after an untimed round that compiles the shader. The work per
 * launch is nil, so this is the fixed cost a network pays per kernel.
 */
export async function measureLaunchCost(launches = 2000): Promise<number> {
  const chain = async () => {
    const one = tf.scalar(1);
    let x: tf.Tensor = tf.scalar(0);
    for (let i = 0; i < launches; i++) {
      const next = tf.add(x, one);
      x.dispose();
      x = next;
    }
    await x.data();
    tf.dispose([x, one]);
  };
  await chain();
  const start = performance.now();
  await chain();
  return ((performance.now() - start) * 1000) / launches;
}

/**
 * Counts kernels (core's `watchKernels`) and GPU dispatches, and samples tensor, GPU and process
 * memory every 32 kernels, while installed.
 */
export class KernelProbe {
  kernels = 0;
  peakBytes = 0;
  /** Peak of tf.memory().numBytesInGPU (webgpu only). */
  peakGpuBytes = 0;
  /** Peak resident set of the process (every thread, workers included), sampled with the tensor memory. */
  peakRss = 0;
  /** Time per kernel name while `timing` (nested launches are counted in their parent too). */
  timing = false;
  readonly times = new Map<string, { count: number; ms: number }>();
  private stop: (() => void) | undefined;
  private launchCounter: LaunchCounter | undefined;
  /** Start times of the kernels running while `timing` (kernels may launch kernels). */
  private readonly starts: number[] = [];

  /** GPU dispatches since the last reset (webgpu), else undefined. */
  get launches(): number | undefined {
    return this.launchCounter?.dispatches;
  }

  /** Queue submissions since the last reset (webgpu), else undefined. */
  get submits(): number | undefined {
    return this.launchCounter?.submits;
  }

  install(): void {
    this.launchCounter = installLaunchCounter();
    this.stop = watchKernels({
      before: () => {
        if (++this.kernels % 32 === 0) this.sample();
        if (this.timing) this.starts.push(performance.now());
      },
      after: (name) => {
        const start = this.starts.pop();
        if (start === undefined) return;
        const entry = this.times.get(name) ?? { count: 0, ms: 0 };
        entry.count++;
        entry.ms += performance.now() - start;
        this.times.set(name, entry);
      },
    });
  }

  sample(): void {
    this.peakBytes = Math.max(this.peakBytes, tf.memory().numBytes);
    this.peakGpuBytes = Math.max(this.peakGpuBytes, gpuMemory()?.numBytesInGPU ?? 0);
    this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
  }

  reset(): void {
    this.times.clear();
    this.kernels = 0;
    this.launchCounter?.reset();
    this.peakBytes = tf.memory().numBytes;
    this.peakGpuBytes = gpuMemory()?.numBytesInGPU ?? 0;
    this.peakRss = process.memoryUsage.rss();
  }

  /** The kernels taking most CPU-side time while `timing` (on webgpu: recording, not GPU time). */
  topKernels(count = 12): { name: string; ms: number; count: number }[] {
    return [...this.times]
      .map(([name, t]) => ({ name, ms: Math.round(t.ms), count: t.count }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, count);
  }

  uninstall(): void {
    this.stop?.();
    this.stop = undefined;
    this.launchCounter?.uninstall();
    this.launchCounter = undefined;
  }
}
