import type * as tf from '@tensorflow/tfjs';
import { UserInputError, type Layer, type Module, type Rng } from '@autodeeplab/core';

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

/** An operation: a module mapping [N, H, W, C] to [N, H/stride, W/stride, C]. */
export type Op = Module & Layer;

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
}

interface Entry {
  factory: OpFactory;
  meta: OpMeta;
}

const registry = new Map<string, Entry>();

/**
 * Registers a candidate operation under `name`. Registering an existing name is an error unless
 * `options.override` is set.
 */
export function registerOp(name: string, factory: OpFactory, meta: OpMeta = { kind: 'conv' }, options: { override?: boolean } = {}): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new UserInputError(`op name '${name}' must be an identifier (letters, digits, underscores)`);
  }
  if (registry.has(name) && !options.override) {
    throw new UserInputError(`op '${name}' is already registered; pass { override: true } to replace it`);
  }
  registry.set(name, { factory, meta });
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
      : new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
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

/** Builds the op registered under `name`. */
export function createOp(name: string, spec: OpSpec): Op {
  return entry(name).factory(spec);
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
