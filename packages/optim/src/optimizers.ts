import * as tf from '@tensorflow/tfjs';
import { UserInputError, sgdStep, uniqueVariableName } from '@autodeeplab/core';

/** Named parameters an optimiser updates; the names key the gradients and the saved state. */
export type NamedVariables = ReadonlyMap<string, tf.Variable>;

/** Gradients keyed by the same names as the optimiser's parameters. */
export type NamedGradients = ReadonlyMap<string, tf.Tensor> | Readonly<Record<string, tf.Tensor>>;

/**
 * An optimiser over tf.Variables whose whole state is a map of named tensors, so that it can be
 * written into a checkpoint and restored exactly.
 */
export interface Optimizer {
  readonly kind: string;
  /** The learning rate the next `step` uses unless one is passed. */
  learningRate: number;
  /** Number of updates applied so far. */
  readonly iterations: number;
  /** Applies one update. Parameters without a gradient are left unchanged. */
  step(gradients: NamedGradients, learningRate?: number): void;
  /** The state as named live variables (clone to keep), including `iterations` as an int32 scalar. */
  state(): Map<string, tf.Tensor>;
  /** Restores a state produced by `state()`; shapes and names must match. `source` names the file in errors. */
  loadState(state: ReadonlyMap<string, tf.Tensor>, source?: string): void;
  dispose(): void;
}

export interface SgdOptions {
  learningRate: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** L2 penalty added to the gradient (PyTorch's Adam `weight_decay`, not AdamW's decoupled decay). */
  weightDecay?: number;
}

const ITERATIONS = 'iterations';

function gradientOf(gradients: NamedGradients, name: string): tf.Tensor | undefined {
  return gradients instanceof Map ? gradients.get(name) : (gradients as Record<string, tf.Tensor>)[name];
}

/** Shared bookkeeping: slot variables per parameter, the iteration count, state save/load. */
abstract class SlotOptimizer implements Optimizer {
  abstract readonly kind: string;
  learningRate: number;
  protected count = 0;
  /** The iteration count as a tensor too, so that `state()` holds only live variables. */
  private readonly countVariable: tf.Variable;
  /** slot name → parameter name → variable. */
  protected readonly slots = new Map<string, Map<string, tf.Variable>>();

  constructor(
    protected readonly params: NamedVariables,
    learningRate: number,
    slotNames: readonly string[],
    prefix: string,
  ) {
    if (!(learningRate >= 0)) throw new UserInputError(`learning rate must be a non-negative number, found ${learningRate}`);
    this.learningRate = learningRate;
    this.countVariable = tf.tidy(() => tf.variable(tf.scalar(0, 'int32'), false, uniqueVariableName(`${prefix}/${ITERATIONS}`)));
    // Slots are created eagerly so the tensor count is flat from the first step on.
    for (const slot of slotNames) {
      const byParam = new Map<string, tf.Variable>();
      for (const [name, param] of params) {
        byParam.set(
          name,
          tf.tidy(() => tf.variable(tf.zerosLike(param), false, uniqueVariableName(`${prefix}/${slot}/${name}`))),
        );
      }
      this.slots.set(slot, byParam);
    }
  }

  get iterations(): number {
    return this.count;
  }

  protected setIterations(count: number): void {
    this.count = count;
    tf.tidy(() => this.countVariable.assign(tf.scalar(count, 'int32')));
  }

  abstract step(gradients: NamedGradients, learningRate?: number): void;

  protected slot(slot: string, name: string): tf.Variable {
    return this.slots.get(slot)!.get(name)!;
  }

  /** Calls `update` for every parameter that has a gradient, checking shapes. */
  protected forEachGradient(gradients: NamedGradients, update: (name: string, param: tf.Variable, grad: tf.Tensor) => void): void {
    for (const [name, param] of this.params) {
      const grad = gradientOf(gradients, name);
      if (grad === undefined) continue;
      if (!tf.util.arraysEqual(grad.shape, param.shape)) {
        throw new Error(`${this.kind}: gradient of '${name}' has shape [${grad.shape}], parameter has [${param.shape}]`);
      }
      update(name, param, grad);
    }
  }

  state(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [slot, byParam] of this.slots) for (const [name, v] of byParam) out.set(`${slot}/${name}`, v);
    out.set(ITERATIONS, this.countVariable);
    return out;
  }

  loadState(state: ReadonlyMap<string, tf.Tensor>, source = `${this.kind} state`): void {
    const problems: string[] = [];
    const iterations = state.get(ITERATIONS);
    if (!iterations || iterations.size !== 1) problems.push(`missing scalar '${ITERATIONS}'`);
    for (const [slot, byParam] of this.slots) {
      for (const [name, v] of byParam) {
        const value = state.get(`${slot}/${name}`);
        if (!value) problems.push(`missing tensor '${slot}/${name}'`);
        else if (!tf.util.arraysEqual(value.shape, v.shape)) {
          problems.push(`tensor '${slot}/${name}' has shape [${value.shape}], expected [${v.shape}]`);
        }
      }
    }
    const expected = new Set([ITERATIONS, ...[...this.slots].flatMap(([slot, m]) => [...m.keys()].map((n) => `${slot}/${n}`))]);
    for (const key of state.keys()) if (!expected.has(key)) problems.push(`unexpected tensor '${key}'`);
    if (problems.length > 0) {
      throw new UserInputError(`${source}: ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? ` (and ${problems.length - 8} more)` : ''}`);
    }
    for (const [slot, byParam] of this.slots) {
      for (const [name, v] of byParam) v.assign(state.get(`${slot}/${name}`)!);
    }
    this.setIterations(iterations!.dataSync()[0]!);
  }

  dispose(): void {
    for (const byParam of this.slots.values()) for (const v of byParam.values()) v.dispose();
    this.slots.clear();
    this.countVariable.dispose();
  }
}

/**
 * SGD with momentum and weight decay, PyTorch semantics:
 * `g ← g + wd·w; v ← μ·v + g; w ← w − lr·v` (Nesterov: `w ← w − lr·(g + μ·v)`).
 */
export class SGD extends SlotOptimizer {
  readonly kind = 'sgd';
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(params: NamedVariables, options: SgdOptions, prefix = 'optim/sgd') {
    const momentum = options.momentum ?? 0;
    super(params, options.learningRate, momentum > 0 ? ['momentum'] : [], prefix);
    this.momentum = momentum;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
  }

  step(gradients: NamedGradients, learningRate = this.learningRate): void {
    const options = { learningRate, momentum: this.momentum, weightDecay: this.weightDecay, nesterov: this.nesterov };
    tf.tidy(() => {
      this.forEachGradient(gradients, (name, param, grad) => {
        // One fused kernel per parameter where the backend has it (see sgdStep of @autodeeplab/core).
        const buffer = this.momentum > 0 ? this.slot('momentum', name) : undefined;
        const next = sgdStep(param, grad, buffer, options);
        if (buffer) buffer.assign(next.buffer!);
        param.assign(next.param);
      });
    });
    this.setIterations(this.count + 1);
  }
}

/**
 * Adam with bias correction and L2 weight decay added to the gradient (PyTorch's Adam):
 * `g ← g + wd·w; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 *  w ← w − lr·(m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)`.
 */
export class Adam extends SlotOptimizer {
  readonly kind = 'adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;

  constructor(params: NamedVariables, options: AdamOptions, prefix = 'optim/adam') {
    super(params, options.learningRate, ['m', 'v'], prefix);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
  }

  step(gradients: NamedGradients, learningRate = this.learningRate): void {
    const { beta1: b1, beta2: b2, epsilon: eps, weightDecay: wd } = this;
    const t = this.count + 1;
    const correction1 = 1 - Math.pow(b1, t);
    const correction2 = 1 - Math.pow(b2, t);
    tf.tidy(() => {
      this.forEachGradient(gradients, (name, param, grad) => {
        const g = wd > 0 ? tf.add(grad, tf.mul(param, wd)) : grad;
        const mSlot = this.slot('m', name);
        const vSlot = this.slot('v', name);
        const m = tf.add(tf.mul(mSlot, b1), tf.mul(g, 1 - b1));
        const v = tf.add(tf.mul(vSlot, b2), tf.mul(tf.square(g), 1 - b2));
        mSlot.assign(m);
        vSlot.assign(v);
        const denominator = tf.add(tf.div(tf.sqrt(v), Math.sqrt(correction2)), eps);
        param.assign(tf.sub(param, tf.mul(tf.div(m, denominator), learningRate / correction1)));
      });
    });
    this.setIterations(t);
  }
}
