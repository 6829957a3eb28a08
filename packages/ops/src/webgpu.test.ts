import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm, Module, Rng, initBackend } from '@autodeeplab/core';
import { applyStacked, batchNormalize, createOp, getStackedForm, isZeroOp, listOps, stackedPointwiseOptions, type StackInput } from './index.js';

/**
 * The webgpu backend (Dawn; in CI Mesa's software rasteriser) agrees with the cpu reference for every
 * registered op, some stacked forms and batch normalisation: outputs and the gradients of
 * L = Σ y·R (R fixed random) with respect to the input and every trainable variable, in train mode.
 *
 * Everything is built twice from the same seeds, once per backend (a tensor made on one backend is
 * moved to another by a synchronous read, which webgpu lacks in Node), and read with `await data()`.
 *
 * Tolerance: |webgpu − cpu| ≤ 1e-4 · max(1, max |cpu|) per tensor. Both are float32 but sum in other
 * orders (tiled shaders vs plain JS loops): a few ulp per accumulation, ≲ 1e-6 relative for these
 * sizes, which BN's division by σ ≈ 1 does not amplify. A wrong kernel or gradient is off by O(max |cpu|).
 */
const TOLERANCE = 1e-4;

type Backend = 'cpu' | 'webgpu';

async function useBackend(backend: Backend): Promise<void> {
  await initBackend(backend === 'webgpu' ? { backend, webgpu: { adapter: 'any' } } : { backend });
  expect(tf.getBackend()).toBe(backend);
}

// tfjs's webgpu backend runs some kernels (elementwise, slices, transposes, reductions) with its cpu
// code when every input is small and still in host memory; off here, as in tfjs's own webgpu tests,
// so that every kernel runs as a shader (the cpu code is what the reference runs anyway).
// (The flag exists once the webgpu backend is loaded.)
let cpuForwardBefore = true;
beforeAll(async () => {
  await useBackend('webgpu');
  cpuForwardBefore = tf.env().getBool('WEBGPU_CPU_FORWARD');
  tf.env().set('WEBGPU_CPU_FORWARD', false);
});
afterAll(async () => {
  tf.env().set('WEBGPU_CPU_FORWARD', cpuForwardBefore);
  await useBackend('cpu');
});

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const seeded = (shape: number[], seed: number, std = 1) => tf.tensor(new Rng(seed).normals(size(shape), std), shape);

/** Outputs and gradients by name: `y`, `d/dx`, `d/d <variable path>`, and anything else worth comparing. */
type Results = Map<string, Float32Array>;

/**
 * y = f(x) and the gradients of Σ y·R (+ Σ x with `plusInputSum`, which gives an op that ignores its
 * input a path to x) with respect to x and `weights`, read asynchronously. A gradient tfjs does not
 * produce (no path from the variable to the loss) is absent from the results.
 */
async function forwardAndGradients(
  f: (x: tf.Tensor4D) => tf.Tensor,
  x: tf.Tensor4D,
  weights: ReadonlyMap<string, tf.Variable>,
  r: tf.Tensor,
  plusInputSum = false,
): Promise<Results> {
  const xVar = tf.variable(x, true);
  let y!: tf.Tensor;
  const { value, grads } = tf.variableGrads(() => {
    y = tf.keep(f(xVar));
    const loss = tf.sum(tf.mul(y, r));
    return (plusInputSum ? tf.add(loss, tf.sum(xVar)) : loss) as tf.Scalar;
  }, [xVar, ...weights.values()]);
  const named: [string, tf.Tensor | undefined][] = [
    ['y', y],
    ['d/dx', grads[xVar.name]],
    ...[...weights].map(([path, v]): [string, tf.Tensor | undefined] => [`d/d ${path}`, grads[v.name]]),
  ];
  const results: Results = new Map();
  for (const [key, t] of named) if (t) results.set(key, (await t.data()) as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  if (y !== xVar) y.dispose();
  xVar.dispose();
  return results;
}

/** Forward + backward on webgpu, twice more: the number of live tensors must not grow. */
async function expectNoLeak(step: () => Promise<unknown>): Promise<void> {
  await step(); // the first call may cache constants
  const before = tf.memory().numTensors;
  await step();
  expect(tf.memory().numTensors, 'live tensors after forward + backward on webgpu').toBe(before);
}

function expectAgree(label: string, webgpu: Results, cpu: Results): void {
  expect([...webgpu.keys()], `${label}: the same outputs and gradients exist`).toEqual([...cpu.keys()]);
  for (const [key, reference] of cpu) {
    const actual = webgpu.get(key)!;
    expect(actual.length, `${label} ${key}: length`).toBe(reference.length);
    let scale = 1;
    let worst = 0;
    for (let i = 0; i < reference.length; i++) {
      scale = Math.max(scale, Math.abs(reference[i]!));
      // NaN on one side only must fail: a NaN difference is not ≤ anything.
      const difference = Math.abs(actual[i]! - reference[i]!);
      worst = Number.isNaN(difference) || Number.isNaN(worst) ? NaN : Math.max(worst, difference);
    }
    expect(worst, `${label} ${key}: max |webgpu − cpu| = ${worst}, max |cpu| = ${scale}, allowed ${TOLERANCE * scale}`).toBeLessThanOrEqual(TOLERANCE * scale);
  }
}

/** Non-trivial affine BN parameters (γ in [0.8, 1.4], β in [−0.3, 0.3]), so their gradients are not the special case γ = 1, β = 0. */
function setAffineParameters(module: Module): void {
  for (const [path, variable] of module.namedParameters()) {
    const ramp = (lo: number, hi: number) => Float32Array.from({ length: variable.size }, (_, i) => lo + ((hi - lo) * i) / Math.max(1, variable.size - 1));
    if (path.endsWith('gamma')) tf.tidy(() => variable.assign(tf.tensor(ramp(0.8, 1.4), variable.shape)));
    if (path.endsWith('beta')) tf.tidy(() => variable.assign(tf.tensor(ramp(-0.3, 0.3), variable.shape)));
  }
}

interface OpCase {
  name: string;
  stride: 1 | 2;
  affine: boolean;
  shape: [number, number, number, number];
}

// Odd spatial sizes: 7×9 at both strides and 9×9 at stride 2 (TensorFlow SAME centres windows on even input indices there).
const OP_CASES: OpCase[] = listOps().flatMap((name) => [
  ...[1, 2].flatMap((stride) => [false, true].map((affine): OpCase => ({ name, stride: stride as 1 | 2, affine, shape: [2, 7, 9, 3] }))),
  { name, stride: 2, affine: false, shape: [2, 9, 9, 3] },
]);

describe('every registered op agrees between webgpu and cpu (outputs, gradients for the input and every variable)', () => {
  it.each(OP_CASES)('$name stride $stride affine $affine on $shape', async ({ name, stride, affine, shape }) => {
    const outShape = [shape[0], Math.ceil(shape[1] / stride), Math.ceil(shape[2] / stride), shape[3]];
    const run = async (backend: Backend) => {
      await useBackend(backend);
      const op = createOp(name, { name: `webgpu_test/${name}`, channels: shape[3], stride, affine, rng: new Rng(21) });
      setAffineParameters(op);
      const x = seeded(shape, 22) as tf.Tensor4D;
      const r = seeded(outShape, 23);
      const step = () => forwardAndGradients((input) => op.apply(input), x, op.namedParameters(), r, isZeroOp(name));
      try {
        const results = await step();
        if (backend === 'webgpu') await expectNoLeak(step);
        return results;
      } finally {
        op.dispose();
        tf.dispose([x, r]);
      }
    };
    const cpu = await run('cpu');
    const webgpu = await run('webgpu');
    expect(webgpu.get('y')!.length).toBe(size(outShape));
    if (isZeroOp(name)) {
      // `none`: zeros and no parameters; with L = Σ none(x)·R + Σ x, d/dx = 1 exactly (none contributes nothing).
      expect(webgpu.get('y')!.every((v) => v === 0)).toBe(true);
      expect([...webgpu.keys()]).toEqual(['y', 'd/dx']);
      expect(webgpu.get('d/dx')!.every((v) => v === 1)).toBe(true);
    } else {
      expect(webgpu.has('d/dx'), 'a gradient for the input').toBe(true);
    }
    expectAgree(`${name} stride ${stride} affine ${affine}`, webgpu, cpu);
  });
});

interface StackedCase {
  name: string;
  pointwise: (typeof stackedPointwiseOptions)['mode'];
}

const STACKED_CASES: StackedCase[] = [
  { name: 'sep_conv_3x3', pointwise: 'block-diagonal' },
  { name: 'sep_conv_5x5', pointwise: 'per-edge' },
  { name: 'dil_conv_5x5', pointwise: 'auto' },
  { name: 'avg_pool_3x3', pointwise: 'auto' },
  { name: 'max_pool_3x3', pointwise: 'auto' },
];

describe('stacked forms agree between webgpu and cpu (3 edges, 2 batch groups)', () => {
  const EDGES = 3;
  const GROUPS = 2;
  const SHAPE: [number, number, number, number] = [2 * GROUPS, 7, 9, 3];

  it.each(STACKED_CASES)('$name ($pointwise 1×1 convs)', async ({ name, pointwise }) => {
    expect(getStackedForm(name)?.apply, 'the op has a stacked form').toBeTypeOf('function');
    const run = async (backend: Backend) => {
      await useBackend(backend);
      stackedPointwiseOptions.mode = pointwise;
      const rng = new Rng(31);
      const ops = Array.from({ length: EDGES }, (_, e) =>
        createOp(name, { name: `webgpu_stack/${name}_${e}`, channels: SHAPE[3], stride: 1, affine: false, rng }),
      );
      const weights = new Map(ops.flatMap((op, e) => [...op.namedParameters()].map(([path, v]): [string, tf.Variable] => [`edge${e}/${path}`, v])));
      const x = seeded(SHAPE, 32) as tf.Tensor4D;
      const stacked = (input: tf.Tensor4D) => {
        const stackInput: StackInput = { x: input, relu: () => tf.relu(input), groups: GROUPS };
        return applyStacked(name, ops, stackInput).y;
      };
      const r = tf.tidy(() => seeded(stacked(x).shape, 33));
      const step = () => forwardAndGradients(stacked, x, weights, r);
      try {
        const results = await step();
        if (backend === 'webgpu') await expectNoLeak(step);
        return results;
      } finally {
        stackedPointwiseOptions.mode = 'auto';
        ops.forEach((op) => op.dispose());
        tf.dispose([x, r]);
      }
    };
    const cpu = await run('cpu');
    const webgpu = await run('webgpu');
    expectAgree(`stacked ${name}`, webgpu, cpu);
  });
});

describe('batch normalisation in train mode agrees between webgpu and cpu', () => {
  it.each([
    [1, 3],
    [2, 3],
    [3, 40],
  ])('batchNormalize, %i group(s), %i channels: values and input gradient', async (groups, channels) => {
    const shape: [number, number, number, number] = [6, 5, 3, channels];
    const run = async (backend: Backend) => {
      await useBackend(backend);
      // Channel means far from 0 and spreads of 3: the centring must be exact, not just the scaling.
      const x = tf.tidy(() => tf.add(seeded(shape, 40 + groups, 3), seeded([1, 1, 1, channels], 50, 2))) as tf.Tensor4D;
      const r = seeded(shape, 60 + groups);
      const step = () => forwardAndGradients((input) => batchNormalize(input, { groups }), x, new Map(), r);
      try {
        const results = await step();
        if (backend === 'webgpu') await expectNoLeak(step);
        return results;
      } finally {
        tf.dispose([x, r]);
      }
    };
    const cpu = await run('cpu');
    expectAgree(`batchNormalize groups ${groups}`, await run('webgpu'), cpu);
  });

  it.each([false, true])('core BatchNorm layer, affine %s: values, gradients (input, γ, β) and running statistics', async (affine) => {
    const shape: [number, number, number, number] = [2, 7, 9, 4];
    const run = async (backend: Backend) => {
      await useBackend(backend);
      const bn = new BatchNorm(`webgpu_bn_${affine}`, { channels: shape[3], affine });
      setAffineParameters(bn);
      const x = tf.tidy(() => tf.add(seeded(shape, 70, 2), seeded([1, 1, 1, shape[3]], 71, 3))) as tf.Tensor4D;
      const r = seeded(shape, 72);
      try {
        expect(bn.training).toBe(true);
        const results = await forwardAndGradients((input) => bn.apply(input), x, bn.namedParameters(), r);
        results.set('running_mean', (await bn.runningMean.data()) as Float32Array);
        results.set('running_var', (await bn.runningVar.data()) as Float32Array);
        if (backend === 'webgpu') await expectNoLeak(() => forwardAndGradients((input) => bn.apply(input), x, bn.namedParameters(), r));
        return results;
      } finally {
        bn.dispose();
        tf.dispose([x, r]);
      }
    };
    const cpu = await run('cpu');
    const webgpu = await run('webgpu');
    expect([...webgpu.keys()]).toEqual(
      affine ? ['y', 'd/dx', 'd/d gamma', 'd/d beta', 'running_mean', 'running_var'] : ['y', 'd/dx', 'running_mean', 'running_var'],
    );
    expectAgree(`BatchNorm affine ${affine}`, webgpu, cpu);
  });
});
