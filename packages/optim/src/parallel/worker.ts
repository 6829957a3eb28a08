/**
 * The gradient worker: a second backend instance in a worker thread. It rebuilds the model from its
 * descriptor, then serves step requests: load the state entries the main thread changed, compute
 * the loss and gradients of its part of the batch with the same `computeLossAndGradients` as the main
 * thread, write them into its output buffer (the main thread weights and sums the parts).
 *
 * This module is its own worker entry: started with the marker in `workerData`, it serves. That
 * keeps one file working from the sources (tests, through tsx) and from the bundled dist (the CLI),
 * where this code lives inside the package bundle.
 */
import * as tf from '@tensorflow/tfjs';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { initBackend, readValues, tensorFromCopy, type BackendName } from '@autodeeplab/core';
import { batchToTensors, disposeBatch } from '../batch-tensors.js';
import { computeLossAndGradients, disposeGradients, type LossAndGradients } from '../gradients.js';
import type { TrainableModel } from '../types.js';
import { variablesInLayout } from './layout.js';
import { buildFromDescriptor } from './model-loader.js';
import { WORKER_MARKER, type ErrorReply, type StepReply, type StepRequest, type WorkerInit, type WorkerRequest } from './protocol.js';

/** The URL a `Worker` starts from: this module. */
export const WORKER_URL = new URL(import.meta.url);

function errorReply(error: unknown, seq?: number): ErrorReply {
  const e = error instanceof Error ? error : new Error(String(error));
  return { type: 'error', ...(seq !== undefined ? { seq } : {}), name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
}

class GradientWorker {
  private readonly state: Float32Array;
  private readonly output: Float32Array;
  private readonly buffers: number[];

  constructor(
    private readonly init: WorkerInit,
    private readonly model: TrainableModel,
    private readonly variables: tf.Variable[],
  ) {
    this.state = new Float32Array(init.state);
    this.output = new Float32Array(init.output);
    this.buffers = init.layout.entries.flatMap((e, i) => (e.parameter ? [] : [i]));
  }

  async step(request: StepRequest): Promise<StepReply> {
    const start = performance.now();
    const { entries } = this.init.layout;
    for (const i of request.sync) {
      const e = entries[i]!;
      // A copy: the main thread rewrites the shared buffer while this replica keeps its value.
      tf.tidy(() => this.variables[i]!.assign(tensorFromCopy(this.state.subarray(e.offset, e.offset + e.size), e.shape)));
    }
    this.model.train(request.training);
    const before = this.buffers.map((i) => this.variables[i]!.dataId);
    const named = new Map<string, tf.Variable>();
    for (const i of request.grads) named.set(entries[i]!.path, this.variables[i]!);
    const [n, h, w] = request.shape;
    const batch = batchToTensors({ images: request.images, labels: request.labels, batchSize: n, height: h, width: w }, request.ignoreLabel);
    let result: LossAndGradients;
    try {
      result = await computeLossAndGradients(this.model, named, batch, request.ignoreLabel);
    } finally {
      disposeBatch(batch);
    }
    try {
      for (const i of request.grads) {
        const e = entries[i]!;
        const g = result.gradients.get(e.path);
        // Read synchronously: thousands of variables, one event-loop turn each would add up.
        if (g) this.output.set(readValues(g), e.offset);
        else this.output.fill(0, e.offset, e.offset + e.size);
      }
    } finally {
      disposeGradients(result.gradients);
    }
    // Buffers a training-mode forward updated (BN running statistics): the main thread averages them.
    const changed = this.buffers.filter((i, k) => this.variables[i]!.dataId !== before[k]);
    for (const i of changed) this.output.set(readValues(this.variables[i]!), entries[i]!.offset);
    return { type: 'result', seq: request.seq, loss: result.loss, buffers: changed, tensors: tf.memory().numTensors, computeMs: performance.now() - start };
  }
}

async function serve(init: WorkerInit): Promise<void> {
  const port = parentPort!;
  let worker: GradientWorker;
  try {
    const info = await initBackend({ backend: init.backend as BackendName });
    const model = await buildFromDescriptor(init.descriptor);
    worker = new GradientWorker(init, model, variablesInLayout(model, init.layout, `gradient worker ${init.id}`));
    port.postMessage({ type: 'ready', tensors: tf.memory().numTensors, backend: info.name });
  } catch (error) {
    port.postMessage(errorReply(error));
    return;
  }
  // Requests are served one at a time, in order.
  let queue = Promise.resolve();
  port.on('message', (request: WorkerRequest) => {
    if (request.type === 'close') {
      port.close();
      return;
    }
    queue = queue.then(async () => {
      try {
        port.postMessage(await worker.step(request));
      } catch (error) {
        port.postMessage(errorReply(error, request.seq));
      }
    });
  });
}

if (!isMainThread && (workerData as Partial<WorkerInit> | undefined)?.marker === WORKER_MARKER) {
  void serve(workerData as WorkerInit);
}
