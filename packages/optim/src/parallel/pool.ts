import * as tf from '@tensorflow/tfjs';
import { UserInputError, currentBackend, readValues, tensorFromCopy } from '@autodeeplab/core';
import { batchToTensors, disposeBatch } from '../batch-tensors.js';
import { computeLossAndGradients, disposeGradients, type GradientResult, type LossAndGradients } from '../gradients.js';
import type { Batch, TrainableModel } from '../types.js';
import { describeModel } from './describe.js';
import { stateLayout } from './layout.js';
import type { ModelDescriptor, StateLayout } from './protocol.js';
import { ThreadReplica, type Replica, type ReplicaResult } from './replica.js';
import { countLabelled, splitBatch } from './split.js';

export interface GradientWorkerPoolOptions {
  /** The main copy: authoritative; its state is sent to the workers whenever it changed. */
  model: TrainableModel;
  /** How a worker rebuilds the model (see `describeModel`). */
  replica: ModelDescriptor;
  /** Backend of the workers (`initBackend`'s name: 'wasm', 'cpu', 'tensorflow'). */
  backend: string;
  /** Worker threads besides the main thread (≥ 1). */
  workers: number;
}

/** Where the time of the last parallel gradient went (milliseconds) and how much state travelled. */
export interface ParallelStepStats {
  /** Copying changed state into the shared buffer. */
  syncMs: number;
  syncValues: number;
  /** The main thread's own part. */
  mainMs: number;
  /** Waiting for the workers after the main part was done. */
  waitMs: number;
  /** Summing gradients and averaging BN statistics. */
  combineMs: number;
  workers: { computeMs: number; tensors: number }[];
}

/**
 * Computes the gradient of a batch on several backend instances: the main thread takes the first
 * part, each worker one other part; the parts' losses and gradients are combined with weights
 * (labelled pixels of the part / labelled pixels of the batch), which makes the result the
 * gradient of the whole batch's mean loss (exactly, up to rounding, for a model without
 * batch-statistics BN). BN running statistics updated by the parts are averaged (by images).
 */
export class GradientWorkerPool {
  /** Statistics of the last `gradients` call. */
  lastStep: ParallelStepStats | undefined;
  private readonly stateValues: Float32Array;
  /** dataId last written into the shared state buffer, per layout entry. */
  private readonly written: (object | undefined)[];
  /** dataId each replica last loaded, per layout entry. */
  private readonly sent: (object | undefined)[][];
  private readonly indexOfPath = new Map<string, number>();
  private closed = false;

  private constructor(
    private readonly model: TrainableModel,
    private readonly layout: StateLayout,
    private readonly variables: tf.Variable[],
    state: SharedArrayBuffer,
    private readonly replicas: Replica[],
  ) {
    this.stateValues = new Float32Array(state);
    this.written = layout.entries.map(() => undefined);
    this.sent = replicas.map(() => layout.entries.map(() => undefined));
    layout.entries.forEach((e, i) => this.indexOfPath.set(e.path, i));
  }

  /** Starts the workers and waits until each has built its model (or throws naming the one that failed). */
  static async start(options: GradientWorkerPoolOptions): Promise<GradientWorkerPool> {
    if (!(Number.isInteger(options.workers) && options.workers >= 1)) {
      throw new UserInputError(`GradientWorkerPool: workers must be a positive integer, found ${options.workers}`);
    }
    const layout = stateLayout(options.model);
    const variables = [...options.model.stateDict().values()];
    const state = new SharedArrayBuffer(layout.length * 4);
    const replicas: Replica[] = [];
    for (let id = 1; id <= options.workers; id++) {
      replicas.push(new ThreadReplica({ id, descriptor: options.replica, backend: options.backend, layout, state }));
    }
    const started = await Promise.allSettled(replicas.map((r) => r.ready));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(replicas.map((r) => r.terminate()));
      throw failed.reason;
    }
    return new GradientWorkerPool(options.model, layout, variables, state, replicas);
  }

  /** Backend instances taking part in a step: the main thread and the workers. */
  get size(): number {
    return this.replicas.length + 1;
  }

  /**
   * Loss and gradients of `variables` (named by state-dict path, as `computeGradients`) on `raw`, the
   * batch split over the main thread and the workers. The caller disposes the gradients.
   */
  async gradients(variables: ReadonlyMap<string, tf.Variable>, raw: Batch, ignoreLabel: number): Promise<GradientResult> {
    if (this.closed) throw new Error('GradientWorkerPool: used after terminate()');
    const grads: number[] = [];
    for (const [path, v] of variables) {
      const i = this.indexOfPath.get(path);
      if (i === undefined || this.variables[i] !== v) throw new Error(`GradientWorkerPool: '${path}' is not a parameter of the pool's model`);
      grads.push(i);
    }
    const parts = splitBatch(raw, this.size);
    const labelled = parts.map((p) => countLabelled(p.labels, ignoreLabel));
    const total = labelled.reduce((a, b) => a + b, 0);
    const weights = labelled.map((v) => (total > 0 ? v / total : 0));
    const training = (this.model as { training?: boolean }).training ?? true;

    const syncStart = performance.now();
    const active = this.replicas.slice(0, parts.length - 1);
    const syncs = active.map((_, k) => this.changedFor(k));
    let syncValues = 0;
    for (const i of new Set(syncs.flat())) syncValues += this.write(i);
    const syncMs = performance.now() - syncStart;

    const pending = active.map((replica, k) => {
      const part = parts[k + 1]!;
      return replica.step(
        { sync: syncs[k]!, training, images: part.images, labels: part.labels, shape: [part.batchSize, part.height, part.width], ignoreLabel, grads },
        { read: (i) => this.read(i) },
      );
    });
    // Observed below; a failure while the main part runs must not surface as an unhandled rejection.
    for (const p of pending) p.catch(() => {});

    const mainStart = performance.now();
    let main: LossAndGradients;
    try {
      const batch = batchToTensors(parts[0]!, ignoreLabel);
      try {
        main = await computeLossAndGradients(this.model, variables, batch, ignoreLabel);
      } finally {
        disposeBatch(batch);
      }
    } catch (error) {
      await Promise.allSettled(pending);
      throw error;
    }
    const mainMs = performance.now() - mainStart;
    const settled = await Promise.allSettled(pending);
    const waitMs = performance.now() - mainStart - mainMs;
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      disposeGradients(main.gradients);
      throw failed.reason;
    }
    const results = settled.map((s) => (s as PromiseFulfilledResult<ReplicaResult>).value);
    active.forEach((_, k) => {
      for (const i of syncs[k]!) this.sent[k]![i] = this.variables[i]!.dataId;
    });

    const combineStart = performance.now();
    const combined = this.combine(main, results, weights, grads);
    if (training)
      this.averageBuffers(
        results,
        parts.map((p) => p.batchSize),
      );
    this.lastStep = {
      syncMs,
      syncValues,
      mainMs,
      waitMs,
      combineMs: performance.now() - combineStart,
      workers: results.map((r) => ({ computeMs: r.computeMs, tensors: r.tensors })),
    };
    return combined;
  }

  /** Stops every worker. Safe to call twice. */
  async terminate(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.replicas.map((r) => r.terminate()));
  }

  /** Entries whose main-copy value (its dataId: tfjs replaces it at every assign) the replica has not loaded. */
  private changedFor(k: number): number[] {
    const sent = this.sent[k]!;
    const out: number[] = [];
    this.variables.forEach((v, i) => {
      if (sent[i] !== v.dataId) out.push(i);
    });
    return out;
  }

  private write(i: number): number {
    const v = this.variables[i]!;
    if (this.written[i] === v.dataId) return 0;
    this.stateValues.set(readValues(v), this.layout.entries[i]!.offset);
    this.written[i] = v.dataId;
    return v.size;
  }

  private read(i: number): Float32Array {
    const e = this.layout.entries[i]!;
    return this.stateValues.subarray(e.offset, e.offset + e.size);
  }

  private combine(main: LossAndGradients, results: ReplicaResult[], weights: number[], grads: number[]): GradientResult {
    const total = weights.reduce((a, b) => a + b, 0);
    const loss = total > 0 ? weights[0]! * main.loss + results.reduce((sum, r, k) => sum + weights[k + 1]! * r.loss, 0) : 0;
    // One fused pass per variable in plain JavaScript: the weighted sum of the parts and its squared
    // norm. Tensor ops would cost a launch per op and per variable, and one flat vector of all
    // variables costs more still (a concat of thousands of variables, then scalar products on
    // tfjs-wasm's slow broadcast path).
    // Values are read in place and summed into one reused buffer, which the new tensor copies: no
    // fresh model-sized allocation per step (see @autodeeplab/core `readValues`).
    const gradients = new Map<string, tf.Tensor>();
    const scratch = new Float32Array(Math.max(0, ...grads.map((i) => this.layout.entries[i]!.size)));
    let squares = 0;
    for (const i of grads) {
      const e = this.layout.entries[i]!;
      const own = main.gradients.get(e.path);
      if (!own) continue;
      const sum = scratch.subarray(0, e.size);
      squares += weightedSum(
        readValues(own),
        results.map((r) => r.read(i)),
        weights,
        sum,
      );
      gradients.set(e.path, tensorFromCopy(sum, e.shape));
    }
    disposeGradients(main.gradients);
    return { loss, gradNorm: Math.sqrt(squares), gradients };
  }

  /** BN running statistics: the images-weighted mean of each part's update (main's is in place already). */
  private averageBuffers(results: ReplicaResult[], images: number[]): void {
    const sets = results.map((r) => new Set(r.buffers));
    const reported = new Set(results.flatMap((r) => r.buffers));
    for (const i of reported) {
      const e = this.layout.entries[i]!;
      const v = this.variables[i]!;
      tf.tidy(() => {
        let sum = tf.mul(v, images[0]!);
        let count = images[0]!;
        results.forEach((r, k) => {
          if (!sets[k]!.has(i)) return;
          sum = tf.add(sum, tf.mul(tensorFromCopy(r.read(i), e.shape), images[k + 1]!));
          count += images[k + 1]!;
        });
        v.assign(tf.div(sum, count));
      });
    }
  }
}

/**
 * The pool a loop uses for `workers` backend instances in all (undefined for 1): workers − 1 threads
 * on the main thread's backend, rebuilding the model from `replica` (or `describeModel`).
 */
export async function startLoopWorkers(model: TrainableModel, workers: number, replica: ModelDescriptor | undefined): Promise<GradientWorkerPool | undefined> {
  if (workers <= 1) return undefined;
  const backend = currentBackend()?.name ?? tf.getBackend();
  if (backend === 'webgpu') {
    throw new UserInputError(`workers: ${workers} threads split a batch over CPU cores; on the webgpu backend the GPU runs the whole batch: use workers 1`);
  }
  return GradientWorkerPool.start({ model, replica: describeModel(model, replica), backend, workers: workers - 1 });
}

/** out = weights[0]·own + Σ_k weights[k+1]·parts[k], in one pass; returns Σ out² (float64). */
function weightedSum(own: Float32Array, parts: readonly Float32Array[], weights: readonly number[], out: Float32Array): number {
  const w0 = weights[0]!;
  let squares = 0;
  if (parts.length === 1) {
    // Two threads, the common case: no inner loop over the parts.
    const [part, w1] = [parts[0]!, weights[1]!];
    for (let j = 0; j < out.length; j++) {
      const v = Math.fround(w0 * own[j]! + w1 * part[j]!);
      out[j] = v;
      squares += v * v;
    }
    return squares;
  }
  for (let j = 0; j < out.length; j++) {
    let v = w0 * own[j]!;
    for (let k = 0; k < parts.length; k++) v += weights[k + 1]! * parts[k]![j]!;
    v = Math.fround(v);
    out[j] = v;
    squares += v * v;
  }
  return squares;
}
