import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, NamedTensorMap } from '@tensorflow/tfjs';

/**
 * The one place where autodeeplab reaches into TensorFlow.js' engine and backends beyond their
 * public ops: the gradient tape's state, kernel launches, the variable registry and the wasm
 * backend's Emscripten module. Everything else (core, ops, search-space) goes through these typed
 * accessors, so a tfjs upgrade that moves an internal is fixed here (written against tfjs 4.22).
 */

/** The part of the engine's state this file reads; `gradients` restores what its nested pass resets. */
interface EngineInternals {
  state: { activeTape: unknown; gradientDepth: number };
  registeredVariables: Record<string, unknown>;
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };
  runKernel(kernelName: string, inputs: NamedTensorMap, attrs?: NamedAttrMap): tf.Tensor | tf.Tensor[];
}

function engine(): EngineInternals {
  return tf.engine() as unknown as EngineInternals;
}

/** Whether a gradient tape is recording (inside tf.grad / variableGrads / engine.gradients). */
export function recordingGradients(): boolean {
  return engine().state.gradientDepth > 0;
}

/** The gradient tape being recorded (an opaque engine object, compared by identity), or null outside one. */
export function activeTape(): unknown {
  return engine().state.activeTape ?? null;
}

/**
 * The gradients of `f()` with respect to `xs` seeded by `dy`, computed inside another gradient
 * computation's backward pass (a gradient function): tfjs resets the global active tape when a
 * gradient computation ends, which the outer pass still needs for its own clean-up, so it is
 * restored. Gradients of `xs` that `f` does not reach are undefined.
 */
export function nestedGradients(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] } {
  const state = engine().state;
  const outerTape = state.activeTape;
  try {
    return engine().gradients(f, xs, dy, true);
  } finally {
    state.activeTape = outerTape;
  }
}

/** Whether a live tfjs variable already has this name (tfjs keeps one global namespace). */
export function isVariableNameTaken(name: string): boolean {
  return name in engine().registeredVariables;
}

/** The names of the live tfjs variables. */
export function registeredVariableNames(): string[] {
  return Object.keys(engine().registeredVariables);
}

/** Runs a registered kernel by name (for kernels without a tfjs op, such as @autodeeplab/kernels' fused ones). */
export function runKernel<T extends tf.Tensor | tf.Tensor[]>(kernelName: string, inputs: NamedTensorMap, attrs: NamedAttrMap = {}): T {
  return engine().runKernel(kernelName, inputs, attrs) as T;
}

/** Called around every kernel launch while watched (see `watchKernels`). */
export interface KernelWatcher {
  before?(kernelName: string, attrs: NamedAttrMap | undefined): void;
  /** After the kernel returned (or threw): its outputs exist, its own temporaries are freed. */
  after?(kernelName: string): void;
}

/**
 * Calls `watcher` around every kernel launch until the returned function is called (idempotent).
 * Watchers nest; stop them in reverse order of start.
 */
export function watchKernels(watcher: KernelWatcher): () => void {
  const target = engine();
  const original = target.runKernel;
  target.runKernel = (kernelName, inputs, attrs) => {
    watcher.before?.(kernelName, attrs);
    try {
      return original.call(target, kernelName, inputs, attrs);
    } finally {
      watcher.after?.(kernelName);
    }
  };
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    target.runKernel = original;
  };
}

/**
 * The Emscripten module of tfjs-backend-wasm when it is the current backend (its exports, such as
 * `_malloc` and `HEAPU8`, typed by the caller as optional members), else null.
 */
export function wasmBackendModule<T extends object>(): Partial<T> | null {
  if (tf.getBackend() !== 'wasm') return null;
  return (tf.backend() as unknown as { wasm?: Partial<T> }).wasm ?? null;
}
