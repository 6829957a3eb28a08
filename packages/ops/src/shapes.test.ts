import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import { BUILTIN_OPS, createOp, isPreActivated, listOps } from './index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('output shapes', () => {
  // Odd and even sizes, square and not; 2 is the smallest size FactorizedReduce and 5×5 kernels see.
  const sizes: [number, number][] = [
    [1, 1],
    [2, 3],
    [5, 5],
    [6, 4],
    [7, 8],
  ];
  it.each(BUILTIN_OPS.flatMap((name) => [1, 2].flatMap((stride) => [2, 3, 8].map((channels) => [name, stride, channels] as const))))(
    '%s stride %i channels %i',
    (name, stride, channels) => {
      for (const affine of [false, true]) {
        const op = createOp(name, { name: `shape/${name}`, channels, stride: stride as 1 | 2, affine, rng: new Rng(1) });
        for (const [h, w] of sizes) {
          const shape = tf.tidy(() => op.apply(tf.ones([2, h, w, channels]) as tf.Tensor4D).shape);
          expect(shape, `${h}×${w}, affine ${affine}`).toEqual([2, Math.ceil(h / stride), Math.ceil(w / stride), channels]);
        }
        op.dispose();
      }
    },
  );
});

describe('module names', () => {
  it('are the spec name plus readable child paths', () => {
    const rng = new Rng(2);
    const expected: Record<string, string[]> = {
      sep_conv_3x3: ['dw1/kernel', 'pw1/kernel', 'bn1/gamma', 'bn1/beta', 'dw2/kernel', 'pw2/kernel', 'bn2/gamma', 'bn2/beta'],
      dil_conv_5x5: ['conv/kernel', 'bn/gamma', 'bn/beta'],
      skip_connect: ['conv1/kernel', 'conv2/kernel', 'bn/gamma', 'bn/beta'],
    };
    for (const [name, paths] of Object.entries(expected)) {
      const op = createOp(name, { name: `net/cell3/edge5/${name}`, channels: 4, stride: 2, affine: true, rng });
      expect([...op.namedParameters().keys()]).toEqual(paths);
      expect(op.parameters().map((v) => v.name)).toEqual(paths.map((p) => `net/cell3/edge5/${name}/${p}`));
      op.dispose();
    }
    // In the search (affine false), pooling is followed by a non-affine BN with running statistics only.
    const pool = createOp('avg_pool_3x3', { name: 'net/e/avg', channels: 4, stride: 1, affine: false, rng });
    expect([...pool.namedBuffers().keys()]).toEqual(['bn/running_mean', 'bn/running_var']);
    expect(pool.parameters()).toEqual([]);
    pool.dispose();
    const finalPool = createOp('avg_pool_3x3', { name: 'net/e/avg', channels: 4, stride: 1, affine: true, rng });
    expect([...finalPool.stateDict().keys()]).toEqual([]);
    finalPool.dispose();
  });
});

describe('pre-activation', () => {
  it('applyPreActivated(relu(x)) equals apply(x) for every op that declares it', () => {
    const x = tf.randomNormal([2, 5, 6, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
    const relu = tf.relu(x);
    const declared: string[] = [];
    for (const name of listOps()) {
      for (const stride of [1, 2] as const) {
        const op = createOp(name, { name: `pre/${name}`, channels: 4, stride, affine: true, rng: new Rng(4) });
        op.eval(); // running statistics: the two calls see the same normalisation
        if (isPreActivated(op)) {
          declared.push(`${name}@${stride}`);
          const a = op.apply(x);
          const b = op.applyPreActivated(relu);
          expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
          tf.dispose([a, b]);
        }
        op.dispose();
      }
    }
    expect(declared).toEqual([
      'skip_connect@2',
      'sep_conv_3x3@1',
      'sep_conv_3x3@2',
      'sep_conv_5x5@1',
      'sep_conv_5x5@2',
      'dil_conv_3x3@1',
      'dil_conv_3x3@2',
      'dil_conv_5x5@1',
      'dil_conv_5x5@2',
    ]);
    tf.dispose([x, relu]);
  });
});
