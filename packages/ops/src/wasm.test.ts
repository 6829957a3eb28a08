import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import { BUILTIN_OPS, createOp } from './index.js';
import { analyticGradients, type Gradients } from './testing.js';

/**
 * The wasm backend (what users run) agrees with the cpu reference, for outputs and for the
 * gradients of L = Σ op(x)·R with respect to x and every weight, in train mode.
 *
 * Tolerance: |wasm − cpu| ≤ 1e-4 · max(1, max |cpu|) per tensor. Both are float32 but sum in
 * different orders (XNNPACK's blocked, FMA-using kernels vs plain JS loops); that changes results
 * by a few ulp per accumulation, ≲ 1e-6 relative for these sizes, which BN's division by σ ≈ 1
 * does not amplify. A wrong kernel or gradient is off by O(max |cpu|).
 */
const SHAPE: [number, number, number, number] = [2, 5, 4, 3];
const cases = BUILTIN_OPS.filter((n) => n !== 'none').flatMap((name) =>
  [1, 2].flatMap((stride) => [false, true].map((affine) => [name, stride as 1 | 2, affine] as const)),
);

function run(name: string, stride: 1 | 2, affine: boolean): Gradients {
  const op = createOp(name, { name: `wasm/${name}`, channels: SHAPE[3], stride, affine, rng: new Rng(21) });
  const x = tf.tensor4d(new Rng(22).normals(SHAPE.reduce((a, b) => a * b, 1)), SHAPE);
  const outShape = [SHAPE[0], Math.ceil(SHAPE[1] / stride), Math.ceil(SHAPE[2] / stride), SHAPE[3]];
  const r = tf.tensor(new Rng(23).normals(outShape.reduce((a, b) => a * b, 1)), outShape);
  try {
    return analyticGradients(op, x, r);
  } finally {
    op.dispose();
    tf.dispose([x, r]);
  }
}

function expectAgree(label: string, actual: Float32Array, reference: Float32Array): void {
  expect(actual.length, label).toBe(reference.length);
  const scale = Math.max(1, ...reference.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < reference.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - reference[i]!));
  expect(worst, `${label}: max |wasm − cpu| (scale ${scale})`).toBeLessThanOrEqual(1e-4 * scale);
}

describe('wasm agrees with cpu', () => {
  it.each(cases)('%s stride %i affine %s: values and gradients', async (name, stride, affine) => {
    await initBackend({ backend: 'cpu' });
    const reference = run(name, stride, affine);
    await initBackend({ backend: 'wasm' });
    const actual = run(name, stride, affine);
    expectAgree('output', actual.y, reference.y);
    expect([...actual.grads.keys()]).toEqual([...reference.grads.keys()]);
    for (const [path, g] of reference.grads) expectAgree(`d/d ${path}`, actual.grads.get(path)!, g);
  });

  it.each(['cpu', 'wasm'] as const)('max_pool_3x3 gradient on negative inputs, by hand (%s)', async (backend) => {
    // x = −1 … −9 on a 3×3 grid: the 9 SAME windows have maxima −1 (×4: at (0,0), (0,1), (1,0), (1,1)),
    // −2 (×2), −4 (×2) and −5 (×1), so Σ maxPool(x) sends 4, 2, 2, 1 to those pixels.
    // (tfjs 4.22's wasm MaxPoolGrad returns all zeros here: it loses windows whose values are all negative.)
    await initBackend({ backend });
    const op = createOp('max_pool_3x3', { name: 'wasm/max', channels: 1, stride: 1, affine: true, rng: new Rng(0) });
    const x = tf.tensor4d([-1, -2, -3, -4, -5, -6, -7, -8, -9], [1, 3, 3, 1]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(op.apply(v as tf.Tensor4D)))(x);
    expect(Array.from(g.dataSync())).toEqual([4, 2, 0, 2, 1, 0, 0, 0, 0]);
    tf.dispose([x, g]);
    op.dispose();
  });

  it('none gives zeros of the output shape on wasm too', async () => {
    await initBackend({ backend: 'wasm' });
    const op = createOp('none', { name: 'wasm/none', channels: 3, stride: 2, affine: false, rng: new Rng(0) });
    const y = tf.tidy(() => op.apply(tf.ones([2, 5, 4, 3]) as tf.Tensor4D));
    expect(y.shape).toEqual([2, 3, 2, 3]);
    expect(Array.from(y.dataSync()).every((v) => v === 0)).toBe(true);
    y.dispose();
    op.dispose();
  });
});
