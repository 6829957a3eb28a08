// Test helpers (not exported from the package).
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { Rng } from '@autodeeplab/core';
import { GENOTYPE_FORMAT, GENOTYPE_VERSION, type Genotype, type Scale } from '@autodeeplab/genotype';
import { batchNormsOf, type Network } from '@autodeeplab/model';

/** Small filters everywhere so that the tests run in seconds on two cores. */
export const TINY = {
  stemFilters: [4, 4, 6] as [number, number, number],
  asppFilters: 6,
  asppRates: [2, 3, 4],
  lowLevelFilters: 3,
  decoderFilters: 5,
};

/**
 * Gives every BN of the network non-trivial γ, β and running statistics, and the classifier a bias,
 * as training would: a freshly built network has γ = 1, β = 0, mean 0, var 1, which would hide a BN
 * exported with the wrong statistics or ε.
 */
export function randomizeInferenceState(network: Network, seed: number): void {
  const rng = new Rng(seed);
  const uniform = (n: number, low: number, high: number) => Float32Array.from({ length: n }, () => rng.range(low, high));
  for (const bn of batchNormsOf(network)) {
    const c = bn.runningMean.shape[0]!;
    bn.gamma?.assign(tf.tensor1d(uniform(c, 0.5, 1.5)));
    bn.beta?.assign(tf.tensor1d(rng.normals(c, 0.2)));
    bn.runningMean.assign(tf.tensor1d(rng.normals(c, 0.2)));
    bn.runningVar.assign(tf.tensor1d(uniform(c, 0.5, 2)));
  }
  const bias = network.decoder.classifier.bias!;
  bias.assign(tf.tensor1d(rng.normals(bias.shape[0]!, 0.5)));
  network.eval();
}

/** Normal images [N, H, W, C] (NHWC, as the network takes them). */
export function randomImages(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  return tf.tensor4d(new Rng(seed).normals(shape[0] * shape[1] * shape[2] * shape[3]), shape);
}

/** The network's forward (eval mode) as NHWC numbers. */
export async function forwardNhwc(network: Network, x: tf.Tensor4D): Promise<Float32Array> {
  const y = network.forward(x);
  try {
    return Float32Array.from(await y.data());
  } finally {
    y.dispose();
  }
}

/** Runs an ONNX model on one input with ONNX Runtime (CPU); returns the first output's data and dims. */
export async function runOnnx(model: Uint8Array, input: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(model);
  try {
    const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input, dims) };
    const out = (await session.run(feeds))[session.outputNames[0]!]!;
    return { data: out.data as Float32Array, dims: out.dims };
  } finally {
    await session.release();
  }
}

/** NHWC data as NCHW, or back (`toNchw` false). */
export function transposeLayout(data: Float32Array, [n, a, b, c]: readonly number[], toNchw: boolean): Float32Array {
  const input = tf.tensor4d(data, [n!, a!, b!, c!]);
  const out = tf.transpose(input, toNchw ? [0, 3, 1, 2] : [0, 2, 3, 1]);
  const values = Float32Array.from(out.dataSync());
  tf.dispose([input, out]);
  return values;
}

/** max |a − b| / max |b|: the error relative to the logits' scale (element-wise ratios blow up near zero). */
export function relativeError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

/** A genotype using every built-in op, `none` included, with the given path. */
export function allOpsGenotype(path: Scale[]): Genotype {
  return {
    format: GENOTYPE_FORMAT,
    version: GENOTYPE_VERSION,
    name: 'all-ops',
    cell: [
      [
        { op: 'sep_conv_3x3', input: 'prev' },
        { op: 'skip_connect', input: 'prev_prev' },
      ],
      [
        { op: 'dil_conv_3x3', input: 'prev_prev' },
        { op: 'max_pool_3x3', input: 'prev' },
      ],
      [
        { op: 'avg_pool_3x3', input: 'prev' },
        { op: 'sep_conv_5x5', input: 'block2' },
      ],
      [
        { op: 'dil_conv_5x5', input: 'prev' },
        { op: 'none', input: 'prev_prev' },
      ],
      [
        { op: 'max_pool_3x3', input: 'block1' },
        { op: 'avg_pool_3x3', input: 'block4' },
      ],
      [
        { op: 'skip_connect', input: 'prev' },
        { op: 'dil_conv_5x5', input: 'block5' },
      ],
    ],
    path,
  };
}
