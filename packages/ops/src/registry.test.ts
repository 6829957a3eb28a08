import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Module, Rng, UserInputError, initBackend, registeredVariableNames } from '@autodeeplab/core';
import {
  BUILTIN_OPS,
  SepConv,
  assertOpsRegistered,
  countOpParameters,
  createOp,
  getOpMeta,
  hasOp,
  isPreActivated,
  isZeroOp,
  listOps,
  registerOp,
  unregisterOp,
  type Op,
} from './index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

afterEach(() => {
  unregisterOp('sep_conv_7x7');
  unregisterOp('scaled_identity');
});

/** A plugin op as a user would write it: a 7×7 separable conv built from the exported block. */
function registerSepConv7x7(): void {
  registerOp('sep_conv_7x7', (spec) => new SepConv(spec.name, { ...spec, kernelSize: 7 }), {
    kind: 'conv',
    description: '(ReLU → depthwise 7×7 → pointwise → BN) × 2',
    preActivation: 'relu',
  });
}

describe('built-in registration', () => {
  it('importing the package registers the 8 ops in the DARTS / Auto-DeepLab order', () => {
    expect(BUILTIN_OPS).toEqual(['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5']);
    expect(listOps()).toEqual([...BUILTIN_OPS]);
    expect(BUILTIN_OPS.every(hasOp)).toBe(true);
  });

  it('describes each op by kind; only none is a zero op', () => {
    expect(BUILTIN_OPS.map((n) => getOpMeta(n).kind)).toEqual(['zero', 'pool', 'pool', 'identity', 'conv', 'conv', 'conv', 'conv']);
    expect(BUILTIN_OPS.filter(isZeroOp)).toEqual(['none']);
    expect(BUILTIN_OPS.filter((n) => getOpMeta(n).preActivation === 'relu')).toEqual(['sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5']);
  });

  it('filters names by glob or RegExp', () => {
    expect(listOps('sep_*')).toEqual(['sep_conv_3x3', 'sep_conv_5x5']);
    expect(listOps('*_3x3')).toEqual(['max_pool_3x3', 'avg_pool_3x3', 'sep_conv_3x3', 'dil_conv_3x3']);
    expect(listOps(/pool/)).toEqual(['max_pool_3x3', 'avg_pool_3x3']);
    expect(listOps('none.x')).toEqual([]); // '.' is literal in a glob
  });
});

describe('custom ops', () => {
  it('a 7×7 separable conv registered here works through createOp, listOps and countOpParameters', () => {
    registerSepConv7x7();
    expect(hasOp('sep_conv_7x7')).toBe(true);
    expect(listOps('sep_*')).toEqual(['sep_conv_3x3', 'sep_conv_5x5', 'sep_conv_7x7']);
    expect(listOps()).toEqual([...BUILTIN_OPS, 'sep_conv_7x7']);
    assertOpsRegistered([...BUILTIN_OPS, 'sep_conv_7x7'], 'config.ops');

    const op = createOp('sep_conv_7x7', { name: 'cell/edge0/sep_conv_7x7', channels: 4, stride: 2, affine: false, rng: new Rng(1) });
    expect(isPreActivated(op)).toBe(true);
    expect(op.parameters()[0]!.name).toBe('cell/edge0/sep_conv_7x7/dw1/kernel');
    const y = tf.tidy(() => op.apply(tf.randomNormal([2, 9, 9, 4]) as tf.Tensor4D).shape);
    expect(y).toEqual([2, 5, 5, 4]);
    op.dispose();

    // No formula in the meta: counted by building once; nothing is left behind.
    const tensors = tf.memory().numTensors;
    const variables = registeredVariableNames().length;
    expect(countOpParameters('sep_conv_7x7', { channels: 8, stride: 1, affine: true })).toBe(2 * (49 * 8 + 64 + 16));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(registeredVariableNames().length).toBe(variables);
  });

  it('registering an existing name is an error unless overridden', () => {
    registerSepConv7x7();
    expect(() => registerSepConv7x7()).toThrow(UserInputError);
    expect(() => registerSepConv7x7()).toThrow("op 'sep_conv_7x7' is already registered; pass { override: true } to replace it");
    expect(() => registerOp('none', () => new Module('x') as Op, { kind: 'zero' })).toThrow(/already registered/);

    class Scaled extends Module {
      apply(x: tf.Tensor4D): tf.Tensor4D {
        return tf.mul(x, 2);
      }
    }
    registerOp('sep_conv_7x7', (spec) => new Scaled(spec.name), { kind: 'identity' }, { override: true });
    expect(getOpMeta('sep_conv_7x7').kind).toBe('identity');
    const op = createOp('sep_conv_7x7', { name: 's', channels: 1, stride: 1, affine: false, rng: new Rng(0) });
    expect(tf.tidy(() => Array.from(op.apply(tf.ones([1, 1, 1, 1]) as tf.Tensor4D).dataSync()))).toEqual([2]);
    expect(isPreActivated(op)).toBe(false);
    expect(countOpParameters('sep_conv_7x7', { channels: 3, stride: 1, affine: false })).toBe(0);
    op.dispose();
  });

  it('an unknown name is an error that lists the known names', () => {
    const message = `unknown op 'sep_conv_9x9'; registered ops: ${BUILTIN_OPS.join(', ')}`;
    expect(() => createOp('sep_conv_9x9', { name: 'x', channels: 1, stride: 1, affine: false, rng: new Rng(0) })).toThrow(message);
    expect(() => getOpMeta('sep_conv_9x9')).toThrow(message);
    expect(() => isZeroOp('sep_conv_9x9')).toThrow(UserInputError);
    expect(() => countOpParameters('sep_conv_9x9', { channels: 1, stride: 1, affine: false })).toThrow(message);
    expect(() => assertOpsRegistered(['sep_conv_3x3', 'conv_9', 'conv_11'], 'genotype.json')).toThrow(
      `genotype.json: unknown ops 'conv_9', 'conv_11'; registered ops: ${BUILTIN_OPS.join(', ')}`,
    );
  });

  it('rejects bad names, metas, specs and factories with clear errors', () => {
    const factory = (spec: { name: string }) => new Module(spec.name) as Op;
    expect(() => registerOp('sep conv', factory)).toThrow("op name 'sep conv' must be an identifier");
    expect(() => registerOp('scaled_identity', factory, { kind: 'lambda' as 'conv' })).toThrow(
      "meta.kind must be one of conv, pool, identity, zero; found 'lambda'",
    );
    const spec = { name: 'n', channels: 4, stride: 1 as const, affine: false, rng: new Rng(0) };
    expect(() => createOp('sep_conv_3x3', { ...spec, channels: 0 })).toThrow("op 'sep_conv_3x3': channels must be a positive integer, found 0");
    expect(() => createOp('sep_conv_3x3', { ...spec, stride: 3 as 1 })).toThrow("op 'sep_conv_3x3': stride must be 1 or 2, found 3");
    expect(() => createOp('sep_conv_3x3', { ...spec, name: '' })).toThrow('spec.name must be a non-empty module name');
    registerOp('scaled_identity', () => ({}) as Op, { kind: 'identity' });
    expect(() => createOp('scaled_identity', spec)).toThrow("op 'scaled_identity': the factory did not return a Module with an apply(x) method");
  });
});
