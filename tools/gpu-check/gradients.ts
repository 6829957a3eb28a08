/**
 * Gradient checks of the operations the networks are made of, on the webgpu backend against the cpu
 * backend (the oracle): for each op f, the gradients of sum(f(inputs) · r) (r fixed random weights)
 * with respect to every input, computed on each backend from the same Float32Arrays.
 *
 * The error of a gradient is max |webgpu − cpu| / max |cpu|: float32 sums of up to a few thousand
 * terms (the largest here: a 3×3×16 filter gradient over 2×17×17 pixels, ~9000 terms) carry a
 * relative error of order 1e-4 in the worst case, so 1e-3 is the pass line.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, resizeBilinear } from '@autodeeplab/core';
import { batchNormalize } from '@autodeeplab/ops';

export const GRADIENT_TOLERANCE = 1e-3;

interface OpCase {
  name: string;
  /** Input shapes; inputs are standard normal. */
  shapes: number[][];
  f: (inputs: tf.Tensor[]) => tf.Tensor;
}

const x4 = (t: tf.Tensor | undefined) => t as tf.Tensor4D;

const CASES: OpCase[] = [
  {
    name: 'conv2d 3×3 stride 1 same',
    shapes: [
      [2, 17, 17, 8],
      [3, 3, 8, 16],
    ],
    f: ([x, w]) => tf.conv2d(x4(x), x4(w), 1, 'same'),
  },
  {
    name: 'conv2d 3×3 stride 2 same',
    shapes: [
      [2, 17, 17, 8],
      [3, 3, 8, 16],
    ],
    f: ([x, w]) => tf.conv2d(x4(x), x4(w), 2, 'same'),
  },
  {
    name: 'conv2d 1×1',
    shapes: [
      [2, 9, 9, 16],
      [1, 1, 16, 8],
    ],
    f: ([x, w]) => tf.conv2d(x4(x), x4(w), 1, 'same'),
  },
  {
    name: 'depthwise conv 3×3 dilation 2',
    shapes: [
      [2, 17, 17, 8],
      [3, 3, 8, 1],
    ],
    f: ([x, w]) => tf.depthwiseConv2d(x4(x), x4(w), 1, 'same', 'NHWC', 2),
  },
  {
    name: 'depthwise conv 5×5 dilation 2',
    shapes: [
      [2, 17, 17, 8],
      [5, 5, 8, 1],
    ],
    f: ([x, w]) => tf.depthwiseConv2d(x4(x), x4(w), 1, 'same', 'NHWC', 2),
  },
  {
    name: 'separable conv 3×3',
    shapes: [
      [2, 17, 17, 8],
      [3, 3, 8, 1],
      [1, 1, 8, 16],
    ],
    f: ([x, d, p]) => tf.separableConv2d(x4(x), x4(d), x4(p), 1, 'same'),
  },
  { name: 'avg pool 3×3 stride 1', shapes: [[2, 17, 17, 8]], f: ([x]) => tf.avgPool(x4(x), 3, 1, 'same') },
  { name: 'max pool 3×3 stride 1', shapes: [[2, 17, 17, 8]], f: ([x]) => tf.maxPool(x4(x), 3, 1, 'same') },
  { name: 'max pool 3×3 stride 2', shapes: [[2, 17, 17, 8]], f: ([x]) => tf.maxPool(x4(x), 3, 2, 'same') },
  { name: 'resize bilinear 9→17 (half-pixel)', shapes: [[2, 9, 9, 8]], f: ([x]) => resizeBilinear(x4(x), 17, 17) },
  { name: 'resize bilinear 17→9 (half-pixel)', shapes: [[2, 17, 17, 8]], f: ([x]) => resizeBilinear(x4(x), 9, 9) },
  { name: 'batch norm, non-affine (ops.batchNormalize)', shapes: [[2, 9, 9, 16]], f: ([x]) => batchNormalize(x4(x)) },
  {
    // As core's BatchNorm in training: batch statistics, then γ and β (gradients for all three).
    name: 'batch norm, affine, batch statistics',
    shapes: [[2, 9, 9, 16], [16], [16]],
    f: ([x, gamma, beta]) => {
      const { mean, variance } = tf.moments(x!, [0, 1, 2]);
      return tf.batchNorm(x!, mean, variance, beta as tf.Tensor1D, gamma as tf.Tensor1D, 1e-5);
    },
  },
];

export interface GradientCheck {
  op: string;
  /** max |webgpu − cpu| / max |cpu| over all inputs' gradients. */
  maxRelError: number;
  pass: boolean;
  error?: string;
}

/** The gradients of sum(f(inputs) · r) with respect to every input, read back (async: webgpu). */
async function gradients(c: OpCase, data: Float32Array[], weights: (shape: number[]) => Float32Array): Promise<Float32Array[]> {
  const inputs = c.shapes.map((shape, i) => tf.tensor(data[i]!, shape));
  const shapeOut = tf.tidy(() => c.f(inputs).shape);
  const r = tf.tensor(weights(shapeOut), shapeOut);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(c.f(xs), r)))(inputs);
  const values = await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
  tf.dispose([...inputs, r, ...grads]);
  return values;
}

function relativeError(actual: Float32Array[], expected: Float32Array[]): number {
  let diff = 0;
  let scale = 0;
  expected.forEach((e, i) => {
    const a = actual[i]!;
    for (let k = 0; k < e.length; k++) {
      diff = Math.max(diff, Math.abs(a[k]! - e[k]!));
      scale = Math.max(scale, Math.abs(e[k]!));
    }
  });
  return diff / Math.max(scale, 1e-30);
}

/** Runs every case on `backend` and on cpu; leaves `backend` selected. */
export async function checkGradients(backend: string): Promise<GradientCheck[]> {
  const results: GradientCheck[] = [];
  for (const c of CASES) {
    const rng = new Rng(7);
    const data = c.shapes.map((shape) => Float32Array.from(rng.normals(shape.reduce((a, b) => a * b, 1))));
    const weights = (shape: number[]) => Float32Array.from(new Rng(11).normals(shape.reduce((a, b) => a * b, 1)));
    try {
      await tf.setBackend('cpu');
      const expected = await gradients(c, data, weights);
      await tf.setBackend(backend);
      const actual = await gradients(c, data, weights);
      const maxRelError = relativeError(actual, expected);
      results.push({ op: c.name, maxRelError, pass: maxRelError <= GRADIENT_TOLERANCE });
    } catch (error) {
      await tf.setBackend(backend);
      results.push({ op: c.name, maxRelError: NaN, pass: false, error: error instanceof Error ? error.message.split('\n')[0]! : String(error) });
    }
  }
  return results;
}
