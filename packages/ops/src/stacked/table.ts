import * as tf from '@tensorflow/tfjs';
import { UserInputError, sharedAcrossCopies } from '@autodeeplab/core';
import { isPreActivated, opRegistration, type Op } from '../registry.js';
import { concatSliceGrad } from './kernels.js';
import type { StackInput, StackOutput, StackedForm } from './types.js';

/**
 * The stacked forms, keyed by registered op name: the E ops of one kind that read the same tensor
 * (all edges leaving one cell input) run as one set of kernels on channel-stacked weights. A table of
 * its own beside the registry: an op needs no stacked form (then its instances run one by one). A
 * form belongs to the op's registration it was made for: once the name is registered again (another
 * factory), the old form no longer applies, nor its replay hint.
 */
const forms = sharedAcrossCopies('ops/stacked-forms', () => new Map<string, { form: StackedForm; registration: object }>());

/** Registers the stacked form of the registered op `name`; an existing one is an error unless `options.override`. */
export function registerStackedForm(name: string, form: StackedForm, options: { override?: boolean } = {}): void {
  if (typeof form.apply !== 'function') throw new UserInputError(`stacked form of '${name}': apply must be a function (ops, input) => StackOutput`);
  const registration = opRegistration(name);
  if (!registration) throw new UserInputError(`stacked form of '${name}': register the op first (registerOp)`);
  if (getStackedForm(name) && !options.override) {
    throw new UserInputError(`op '${name}' already has a stacked form; pass { override: true } to replace it`);
  }
  forms.set(name, { form, registration });
}

/** Removes the stacked form of op `name` (mainly for tests). */
export function unregisterStackedForm(name: string): boolean {
  return forms.delete(name);
}

/** The stacked form of op `name` as registered now, if it has one. */
export function getStackedForm(name: string): StackedForm | undefined {
  const entry = forms.get(name);
  return entry && entry.registration === opRegistration(name) ? entry.form : undefined;
}

/** Applies `ops` (all created from registry entry `name`) to a shared input, stacked when the op has a form that takes them. */
export function applyStacked(name: string, ops: readonly Op[], input: StackInput): StackOutput {
  if (ops.length === 0) throw new Error('applyStacked: no ops');
  return getStackedForm(name)?.apply(ops, input) ?? applyEach(ops, input);
}

/**
 * Fallback: each op on its own, each batch group on its own (an op's BN must not mix the groups),
 * outputs concatenated on channels.
 */
export function applyEach(ops: readonly Op[], input: StackInput): StackOutput {
  const { groups } = input;
  const run = (op: Op): tf.Tensor4D => {
    const pre = isPreActivated(op);
    const source = pre ? input.relu() : input.x;
    const call = (t: tf.Tensor4D) => (pre ? op.applyPreActivated(t) : op.apply(t));
    if (groups === 1) return call(source);
    const n = source.shape[0] / groups;
    const parts = Array.from({ length: groups }, (_, g) => call(tf.slice(source, [g * n, 0, 0, 0], [n, -1, -1, -1])));
    return concatSliceGrad(parts, 0);
  };
  const outputs = ops.map(run);
  return { y: concatSliceGrad(outputs, 3), shared: false };
}
