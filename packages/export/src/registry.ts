import { UserInputError, sharedAcrossCopies } from '@autodeeplab/core';
import type { Op } from '@autodeeplab/ops';
import type { OnnxGraph } from './graph.js';

/** What a mapping is given to translate one op of one cell into ONNX nodes. */
export interface OnnxOpContext {
  /** The registered op name (e.g. `sep_conv_3x3`). */
  opName: string;
  /** The op's module in the trained network (its weights are read from it). */
  op: Op;
  /** The NCHW input value. */
  input: string;
  /** Channels of input and output. */
  channels: number;
  /** 1, or 2: the output is ceil(n / 2) × ceil(n / 2), TensorFlow SAME. */
  stride: 1 | 2;
  /** Downsampling rate of the input (4, 8, 16, 32): `graph.sizeAtScale(inputScale * stride)` is the output size. */
  inputScale: number;
  graph: OnnxGraph;
}

/**
 * Translates an op into ONNX nodes added to `ctx.graph` (see `emitConv2d`, `emitBatchNorm`,
 * `emitReLUConvBN`, … and `graph.node` for any ONNX operator); returns the NCHW output value's
 * name, which may be `ctx.input` itself (identity). Must equal the op's `apply` on the same input.
 */
export type OnnxMapping = (ctx: OnnxOpContext) => string;

/** One registry per process, even with two copies of this package: a plugin's mapping is seen by every copy. */
const mappings = sharedAcrossCopies('export/onnx-mappings', () => new Map<string, OnnxMapping>());

/**
 * Registers how op `name` (as registered with `registerOp`) is written to ONNX. Registering an
 * existing name is an error unless `options.override` is set.
 */
export function registerOnnxMapping(name: string, mapping: OnnxMapping, options: { override?: boolean } = {}): void {
  if (typeof mapping !== 'function') throw new UserInputError(`ONNX mapping of op '${name}': must be a function (ctx) => output name, found ${typeof mapping}`);
  if (mappings.has(name) && !options.override) {
    throw new UserInputError(`op '${name}' already has an ONNX mapping; pass { override: true } to replace it`);
  }
  mappings.set(name, mapping);
}

export function unregisterOnnxMapping(name: string): boolean {
  return mappings.delete(name);
}

export function hasOnnxMapping(name: string): boolean {
  return mappings.has(name);
}

/** Ops with an ONNX mapping, in registration order. */
export function listOnnxMappings(): string[] {
  return [...mappings.keys()];
}

export function getOnnxMapping(name: string): OnnxMapping | undefined {
  return mappings.get(name);
}

/** Throws a UserInputError naming every op of `names` without a mapping and how to add one. */
export function assertOnnxMappings(names: readonly string[], source: string): void {
  const missing = [...new Set(names)].filter((name) => !mappings.has(name));
  if (missing.length === 0) return;
  const list = missing.map((name) => `'${name}'`).join(', ');
  throw new UserInputError(
    `${source}: no ONNX mapping for op${missing.length > 1 ? 's' : ''} ${list}; ` +
      `register one before exporting with registerOnnxMapping('${missing[0]}', (ctx) => …) from @autodeeplab/export ` +
      `(e.g. in the plugin that registers the op); ops with a mapping: ${listOnnxMappings().join(', ')}`,
  );
}
