/**
 * The messages between the main thread and a gradient worker. Model state and gradients travel
 * through SharedArrayBuffers laid out by a `StateLayout` (one slot per state-dict entry); messages
 * carry only indices, scalars and the batch part.
 */

/**
 * How a worker rebuilds the model by itself: `import(module)[export]`, called with `args` (with `new`
 * when it is a class). `module` is a package name or an absolute path / file URL; `args` must survive
 * structured cloning (plain data). Parameter values need not match: the main copy's are sent.
 */
export interface ModelDescriptor {
  module: string;
  export: string;
  args?: unknown[];
}

/** One state-dict entry's place in the shared buffers (float32 elements). */
export interface LayoutEntry {
  path: string;
  shape: number[];
  offset: number;
  size: number;
  /** A trainable parameter (else a buffer such as a BN running statistic). */
  parameter: boolean;
}

export interface StateLayout {
  entries: LayoutEntry[];
  /** Total float32 elements. */
  length: number;
}

/** Given to the worker at start (workerData). */
export interface WorkerInit {
  marker: typeof WORKER_MARKER;
  /** 1-based, for messages. */
  id: number;
  descriptor: ModelDescriptor;
  backend: string;
  layout: StateLayout;
  /** Main writes the state here between steps; workers only read it. */
  state: SharedArrayBuffer;
  /** This worker writes its gradients (parameter slots) and updated buffers (buffer slots) here. */
  output: SharedArrayBuffer;
}

export const WORKER_MARKER = 'autodeeplab-gradient-worker';

export interface StepRequest {
  type: 'step';
  seq: number;
  /** Layout indices whose values in the state buffer are newer than the worker's copy. */
  sync: number[];
  training: boolean;
  images: Float32Array;
  labels: Int32Array;
  /** [n, h, w]. */
  shape: [number, number, number];
  ignoreLabel: number;
  /** Layout indices of the parameters to differentiate. */
  grads: number[];
}

export interface StepReply {
  type: 'result';
  seq: number;
  /** The part's own loss (mean over its non-ignored pixels), unscaled. */
  loss: number;
  /** Layout indices of buffers that changed during the step (their new values are in `output`). */
  buffers: number[];
  /** tf.memory().numTensors in the worker after the step (leak checks). */
  tensors: number;
  computeMs: number;
}

export interface ReadyReply {
  type: 'ready';
  tensors: number;
  backend: string;
}

export interface ErrorReply {
  type: 'error';
  seq?: number;
  name: string;
  message: string;
  stack?: string;
}

export type WorkerReply = StepReply | ReadyReply | ErrorReply;
export type WorkerRequest = StepRequest | { type: 'close' };
