import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import { BUILTIN_OPS, createOp, isPreActivated } from './index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const cases = BUILTIN_OPS.flatMap((name) => [1, 2].flatMap((stride) => [false, true].map((affine) => [name, stride as 1 | 2, affine] as const)));

describe('no tensor leaks', () => {
  it.each(cases)('%s stride %i affine %s: numTensors flat across forward + backward', (name, stride, affine) => {
    const op = createOp(name, { name: `mem/${name}`, channels: 3, stride, affine, rng: new Rng(1) });
    const x = tf.randomNormal([2, 5, 4, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const weights = op.parameters();
    const step = () => {
      // d/dx and d/dw of Σ op(x)² (+ Σ x so that `none` has a path to x); the pre-activated entry too.
      const f = (input: tf.Tensor4D) => tf.add(tf.sum(tf.square(op.apply(input))), tf.sum(input)) as tf.Scalar;
      const weightGrads = weights.length > 0 ? tf.variableGrads(() => f(x), weights) : undefined;
      const dx = tf.grad((input: tf.Tensor) => f(input as tf.Tensor4D))(x);
      const pre = isPreActivated(op) ? tf.tidy(() => op.applyPreActivated(tf.relu(x))) : undefined;
      tf.dispose([dx, pre]);
      if (weightGrads) tf.dispose([weightGrads.value, ...Object.values(weightGrads.grads)]);
    };
    step(); // first call may cache constants (avg pooling's 9 / count map)
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    op.dispose();
    x.dispose();
  });

  it('disposing an op frees its variables and cached constants', () => {
    const before = tf.memory().numTensors;
    for (const name of BUILTIN_OPS) {
      for (const stride of [1, 2] as const) {
        const op = createOp(name, { name: `free/${name}`, channels: 3, stride, affine: false, rng: new Rng(1) });
        tf.tidy(() => void op.apply(tf.ones([1, 4, 4, 3]) as tf.Tensor4D));
        op.dispose();
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
