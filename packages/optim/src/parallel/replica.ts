import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UserInputError } from '@autodeeplab/core';
import { WORKER_MARKER, type ModelDescriptor, type StateLayout, type StepReply, type StepRequest, type WorkerInit, type WorkerReply } from './protocol.js';
import { WORKER_URL } from './worker.js';

/** What a replica is asked to compute: its part of the batch, at the main copy's current state. */
export type ReplicaRequest = Omit<StepRequest, 'type' | 'seq'>;

export interface ReplicaResult {
  loss: number;
  /** Buffers the step changed (layout indices). */
  buffers: number[];
  tensors: number;
  computeMs: number;
  /** Gradient (parameter index) or new buffer value (buffer index); valid until the next step. */
  read(index: number): Float32Array;
}

/**
 * Another backend instance holding a copy of the model. The pool only uses this interface, so
 * threads can later be joined by processes or machines (which would send `state.read(i)` for the
 * synced entries instead of sharing memory).
 */
export interface Replica {
  readonly name: string;
  /** Resolves once the replica has built its model; rejects with the reason it could not. */
  readonly ready: Promise<void>;
  step(request: ReplicaRequest, state: { read(index: number): Float32Array }): Promise<ReplicaResult>;
  terminate(): Promise<void>;
}

/** A replica failed: it threw, crashed, exited or could not start. Names the replica. */
export class GradientWorkerError extends Error {
  override readonly name = 'GradientWorkerError';
  constructor(
    readonly worker: string,
    message: string,
  ) {
    super(`${worker}: ${message}`);
  }
}

function replyError(name: string, reply: Extract<WorkerReply, { type: 'error' }>): Error {
  // Bad input found by the worker (e.g. a label beyond the class count) stays a UserInputError.
  if (reply.name === 'UserInputError') return new UserInputError(`${name}: ${reply.message}`);
  const error = new GradientWorkerError(name, `${reply.name}: ${reply.message}`);
  if (reply.stack) error.stack = `${error.name}: ${error.message}\n(in the worker) ${reply.stack}`;
  return error;
}

/**
 * The bundled entry (dist) starts directly. From the sources (tests, tsx scripts) the entry is
 * TypeScript: a small bootstrap registers tsx in the thread first (`--import tsx` in a Worker's
 * execArgv does not reach the thread's loader on Node 20), with the package's tsconfig so that
 * `@autodeeplab/*` resolves to the sources as in the main thread.
 */
function startWorker(init: WorkerInit): Worker {
  const options = { workerData: init, stdout: false, stderr: false };
  if (!WORKER_URL.pathname.endsWith('.ts')) return new Worker(WORKER_URL, options);
  const tsconfig = fileURLToPath(new URL('../../tsconfig.json', WORKER_URL));
  const bootstrap =
    `import('tsx/esm/api').then((tsx) => { tsx.register({ tsconfig: ${JSON.stringify(tsconfig)} }); ` +
    `return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

interface Pending {
  resolve(reply: StepReply): void;
  reject(error: Error): void;
}

/** A replica in a worker thread; state and outputs travel through SharedArrayBuffers. */
export class ThreadReplica implements Replica {
  readonly name: string;
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly output: Float32Array;
  private readonly layout: StateLayout;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private failure: Error | undefined;
  private closing = false;
  private settleReady!: { resolve(): void; reject(error: Error): void };

  constructor(options: { id: number; descriptor: ModelDescriptor; backend: string; layout: StateLayout; state: SharedArrayBuffer }) {
    this.name = `gradient worker ${options.id}`;
    this.layout = options.layout;
    const output = new SharedArrayBuffer(options.layout.length * 4);
    this.output = new Float32Array(output);
    const init: WorkerInit = {
      marker: WORKER_MARKER,
      id: options.id,
      descriptor: options.descriptor,
      backend: options.backend,
      layout: options.layout,
      state: options.state,
      output,
    };
    this.ready = new Promise<void>((resolve, reject) => (this.settleReady = { resolve, reject }));
    this.ready.catch(() => {}); // observed by the pool; never an unhandled rejection
    this.worker = startWorker(init);
    this.worker.on('message', (reply: WorkerReply) => this.receive(reply));
    this.worker.on('error', (error) => this.fail(new GradientWorkerError(this.name, `crashed: ${error.message}`)));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.fail(new GradientWorkerError(this.name, `exited unexpectedly with code ${code}`));
    });
    // Referenced while starting and while a request is pending, so that awaiting it keeps the
    // process alive; an idle pool does not.
  }

  private receive(reply: WorkerReply): void {
    if (reply.type === 'ready') {
      if (this.pending.size === 0) this.worker.unref();
      this.settleReady.resolve();
      return;
    }
    if (reply.type === 'error' && reply.seq === undefined) {
      this.fail(replyError(this.name, reply));
      return;
    }
    const pending = this.pending.get(reply.seq!);
    if (!pending) return;
    this.pending.delete(reply.seq!);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.type === 'error') pending.reject(replyError(this.name, reply));
    else pending.resolve(reply);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.settleReady.reject(this.failure);
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
    this.worker.unref();
  }

  async step(request: ReplicaRequest): Promise<ReplicaResult> {
    if (this.failure) throw this.failure;
    if (this.closing) throw new GradientWorkerError(this.name, 'terminated');
    const seq = ++this.seq;
    const reply = await new Promise<StepReply>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ type: 'step', seq, ...request }, [request.images.buffer as ArrayBuffer, request.labels.buffer as ArrayBuffer]);
    });
    const { entries } = this.layout;
    return {
      loss: reply.loss,
      buffers: reply.buffers,
      tensors: reply.tensors,
      computeMs: reply.computeMs,
      read: (i) => this.output.subarray(entries[i]!.offset, entries[i]!.offset + entries[i]!.size),
    };
  }

  async terminate(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.fail(new GradientWorkerError(this.name, 'terminated'));
    await this.worker.terminate();
  }
}
