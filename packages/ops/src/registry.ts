import type * as tf from '@tensorflow/tfjs';
import { Rng, UserInputError, sharedAcrossCopies, type Layer, type Module } from '@autodeeplab/core';

/** What a factory is given to build one operation of one edge. */
export interface OpSpec {
  /** Full module name of the op, e.g. `supernet/cell3/edge5/sep_conv_3x3`. */
  name: string;
  /** Input and output channels (ops of a cell keep the channel count). */
  channels: number;
  /** 1, or 2 to halve the spatial size (output size ceil(n / 2), TensorFlow SAME convention). */
  stride: 1 | 2;
  /** Affine BN (discrete network) or not (search supernet). */
  affine: boolean;
  /** Seeded source for initialisation. */
  rng: Rng;
}

/**
 * Optional fast path of an op whose first step is `ReLU(x)`: a MixedOp computes `ReLU(x)` once per
 * edge and hands it to every such op (`applyPreActivated(relu(x))` equals `apply(x)` exactly).
 */
export interface PreActivated {
  readonly preActivation: 'relu';
  /** The op applied to an input that already went through ReLU. Must not dispose `reluX`. */
  applyPreActivated(reluX: tf.Tensor4D): tf.Tensor4D;
}

/**
 * An operation: a module mapping [N, H, W, C] to [N, ceil(H/stride), ceil(W/stride), C]. `apply`
 * may return its input itself (identity), so callers must not dispose the result separately from
 * the input.
 */
export type Op = Module & Layer & Partial<PreActivated>;

export type OpFactory = (spec: OpSpec) => Op;

export type OpKind = 'conv' | 'pool' | 'identity' | 'zero';

/** The spec without name and RNG: enough to count parameters and cost. */
export type OpShapeSpec = Pick<OpSpec, 'channels' | 'stride' | 'affine'>;

export interface OpMeta {
  kind: OpKind;
  description?: string;
  /**
   * Trainable parameter count for a spec. When absent, it is counted by building the op once
   * (see `countOpParameters`).
   */
  parameterCount?: (spec: OpShapeSpec) => number;
  /**
   * Set when every instance, at every stride, starts with ReLU of its input (and so implements
   * `PreActivated`). Informational: the instance's own `preActivation` is authoritative (e.g.
   * `skip_connect` starts with ReLU only at stride 2, where it is a FactorizedReduce).
   */
  preActivation?: 'relu';
}

interface Entry {
  factory: OpFactory;
  meta: OpMeta;
}

/** One registry per process, even with two copies of this package installed: a user's op is seen by every copy. */
const registry = sharedAcrossCopies('ops/registry', () => new Map<string, Entry>());

/**
 * Registers a candidate operation under `name`. Registering an existing name is an error unless
 * `options.override` is set.
 */
export function registerOp(name: string, factory: OpFactory, meta: OpMeta = { kind: 'conv' }, options: { override?: boolean } = {}): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new UserInputError(`op name '${name}' must be an identifier (letters, digits, underscores)`);
  }
  if (typeof factory !== 'function') {
    throw new UserInputError(`op '${name}': the factory must be a function (spec) => Op, found ${typeof factory}`);
  }
  if (!['conv', 'pool', 'identity', 'zero'].includes(meta.kind)) {
    throw new UserInputError(`op '${name}': meta.kind must be one of conv, pool, identity, zero; found '${String(meta.kind)}'`);
  }
  if (registry.has(name) && !options.override) {
    throw new UserInputError(`op '${name}' is already registered; pass { override: true } to replace it`);
  }
  registry.set(name, { factory, meta });
}

/**
 * The registration of op `name`, an opaque token that changes whenever the op is registered again
 * (or removed): what belongs to one factory (its stacked form) is keyed by it, not by the name alone.
 */
export function opRegistration(name: string): object | undefined {
  return registry.get(name);
}

/** Removes an op (mainly for tests that register temporary ops). */
export function unregisterOp(name: string): boolean {
  return registry.delete(name);
}

export function hasOp(name: string): boolean {
  return registry.has(name);
}

/** Registered op names, in registration order, optionally filtered by a glob (`sep_*`) or RegExp. */
export function listOps(pattern?: string | RegExp): string[] {
  const names = [...registry.keys()];
  if (pattern === undefined) return names;
  const regex =
    pattern instanceof RegExp
      ? pattern
      : new RegExp(
          `^${pattern
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.')}$`,
        );
  return names.filter((n) => regex.test(n));
}

function entry(name: string): Entry {
  const found = registry.get(name);
  if (!found) {
    throw new UserInputError(`unknown op '${name}'; registered ops: ${listOps().join(', ') || '(none)'}`);
  }
  return found;
}

export function getOpMeta(name: string): OpMeta {
  return entry(name).meta;
}

/** True for ops of kind `zero` (`none`): a MixedOp can skip them entirely, their output being 0. */
export function isZeroOp(name: string): boolean {
  return entry(name).meta.kind === 'zero';
}

/** True when the op instance starts with ReLU and offers `applyPreActivated`. */
export function isPreActivated(op: Op): op is Op & PreActivated {
  return op.preActivation === 'relu' && typeof op.applyPreActivated === 'function';
}

function assertShapeSpec(name: string, spec: OpShapeSpec): void {
  if (!Number.isInteger(spec.channels) || spec.channels < 1) {
    throw new UserInputError(`op '${name}': channels must be a positive integer, found ${String(spec.channels)}`);
  }
  if (spec.stride !== 1 && spec.stride !== 2) {
    throw new UserInputError(`op '${name}': stride must be 1 or 2, found ${String(spec.stride)}`);
  }
  if (typeof spec.affine !== 'boolean') {
    throw new UserInputError(`op '${name}': affine must be a boolean, found ${String(spec.affine)}`);
  }
}

/** Builds the op registered under `name`. */
export function createOp(name: string, spec: OpSpec): Op {
  const { factory } = entry(name);
  assertShapeSpec(name, spec);
  if (typeof spec.name !== 'string' || spec.name.length === 0) {
    throw new UserInputError(`op '${name}': spec.name must be a non-empty module name`);
  }
  // Duck-typed: a plugin may be built against another copy of @autodeeplab/core.
  if (typeof spec.rng?.normals !== 'function') throw new UserInputError(`op '${name}': spec.rng must be an Rng`);
  const op = factory(spec);
  if (op === null || typeof op !== 'object' || typeof op.apply !== 'function' || typeof op.dispose !== 'function') {
    throw new UserInputError(`op '${name}': the factory did not return a Module with an apply(x) method`);
  }
  return op;
}

/**
 * Trainable parameters of op `name` for a spec: the meta's formula when it has one, otherwise the
 * op is built once (no forward pass), counted and disposed.
 */
export function countOpParameters(name: string, spec: OpShapeSpec): number {
  const { meta } = entry(name);
  assertShapeSpec(name, spec);
  if (meta.parameterCount) return meta.parameterCount(spec);
  const op = createOp(name, { ...spec, name: `__count_parameters__/${name}`, rng: new Rng(0) });
  try {
    return op.parameterCount();
  } finally {
    op.dispose();
  }
}

/** Throws a clear error listing unknown names, for validating configs and genotypes up front. */
export function assertOpsRegistered(names: readonly string[], source: string): void {
  const unknown = names.filter((n) => !registry.has(n));
  if (unknown.length > 0) {
    throw new UserInputError(
      `${source}: unknown op${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}; registered ops: ${listOps().join(', ')}`,
    );
  }
}

/** Output of an op for an input tensor, typed. */
export type OpApply = (x: tf.Tensor4D) => tf.Tensor4D;
