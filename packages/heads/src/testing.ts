// Test helpers (not exported from the package).
import * as tf from '@tensorflow/tfjs';
import { Rng, type Module } from '@autodeeplab/core';

/** Randomises every parameter and buffer so that BN statistics, γ/β and biases all matter. */
export function randomiseState(module: Module, seed: number): void {
  const rng = new Rng(seed);
  const state = new Map<string, tf.Tensor>();
  for (const [path, v] of module.stateDict()) {
    const values = rng.normals(v.size, 0.5);
    if (path.endsWith('running_var')) for (let i = 0; i < values.length; i++) values[i] = 0.5 + Math.abs(values[i]!);
    state.set(path, tf.tensor(values, v.shape));
  }
  module.loadStateDict(state);
  for (const t of state.values()) t.dispose();
}

/** Reference conv-BN-ReLU from a state dict, written with plain tfjs ops. */
export function refConvBnRelu(x: tf.Tensor4D, state: ReadonlyMap<string, tf.Tensor>, prefix: string, dilation = 1, relu = true): tf.Tensor4D {
  const p = (k: string) => state.get(`${prefix}/${k}`)!;
  const y = tf.conv2d(x, p('conv/kernel') as tf.Tensor4D, 1, 'same', 'NHWC', dilation);
  const n = tf.batchNorm(y, p('bn/running_mean'), p('bn/running_var'), p('bn/beta'), p('bn/gamma'), 1e-5) as tf.Tensor4D;
  return relu ? tf.relu(n) : n;
}

export function randomTensor(shape: number[], seed: number): tf.Tensor4D {
  return tf.tensor4d(new Rng(seed).normals(shape[0]! * shape[1]! * shape[2]! * shape[3]!), shape as [number, number, number, number]);
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

/** Asserts that every parameter of `module` gets a non-zero gradient from `loss`. */
export function gradientNorms(module: Module, loss: () => tf.Scalar): Map<string, number> {
  const named = module.namedParameters();
  const { grads, value } = tf.variableGrads(loss, [...named.values()]);
  const out = new Map<string, number>();
  for (const [path, variable] of named) {
    const g = grads[variable.name];
    out.set(path, g ? tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]!) : 0);
  }
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}
