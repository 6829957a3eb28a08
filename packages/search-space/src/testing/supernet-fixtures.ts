// Test helpers (not exported from the package): a tiny supernet config, seeded inputs and a loss.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@autodeeplab/core';
import type { Supernet } from '../supernet.js';

export const TINY = { layers: 3, blocks: 2, filterMultiplier: 2, scales: [4, 8, 16] as (4 | 8 | 16)[], numClasses: 3 };

export function input(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  return tf.tensor4d(new Rng(seed).normals(shape.reduce((a, b) => a * b, 1)), shape);
}

/** Pixel-wise softmax cross-entropy against seeded random labels. */
export function loss(logits: tf.Tensor4D, seed: number): tf.Scalar {
  const [n, h, w, k] = logits.shape;
  const rng = new Rng(seed);
  const labels = tf
    .oneHot(
      tf.tensor1d(
        Array.from({ length: n * h * w }, () => rng.int(k)),
        'int32',
      ),
      k,
    )
    .reshape([n, h, w, k]);
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
}

export function step(net: Supernet, x: tf.Tensor4D, seed: number): Map<string, tf.Tensor> {
  const vars = net.parameters();
  const { value, grads } = tf.variableGrads(() => loss(net.forward(x), seed), vars);
  value.dispose();
  return new Map(Object.entries(grads));
}

/** Spreads α and β so that every op and every path weighs differently. */
export function spread(net: Supernet): void {
  net.alpha.assign(tf.tensor2d(new Rng(1).normals(net.alpha.size, 1), net.alpha.shape as [number, number]));
  net.beta.assign(tf.tensor1d(new Rng(2).normals(net.beta.size, 1)));
}
