import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { columnDot, FUSED_KERNEL_NAMES, hasFusedKernels, reluGrad, sgdStep } from '../../fused/index.js';
import { useBackend } from '../../testing/backend.js';
import { TestRandom } from '../../testing/random.js';
import { F32_EPS, expectClose, host, reportObservedErrors, runKernelOn, type HostTensor } from './kernel-check.js';
import { WEBGPU_FUSED_KERNELS } from './kernels.js';

// The element-wise fused kernels on webgpu (AdlReluGrad, AdlSgdStep, AdlEdgeWeightedSum) against
// the cpu kernel or a float64 loop, at odd sizes and sizes of many workgroups (64 invocations each).

afterAll(reportObservedErrors);

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

describe('webgpu fused kernels: registration', () => {
  it('installs all six on webgpu (callers assume all or none), so hasFusedKernels() holds there', async () => {
    await useBackend('webgpu');
    expect(hasFusedKernels()).toBe(true);
    for (const name of Object.values(FUSED_KERNEL_NAMES)) expect(tf.getKernel(name, 'webgpu'), name).toBeDefined();
    expect(WEBGPU_FUSED_KERNELS.map((c) => c.kernelName).sort()).toEqual(Object.values(FUSED_KERNEL_NAMES).sort());
  });

  it('runs the public ops through them: relu’s gradient and columnDot, no tensor left', async () => {
    await useBackend('webgpu');
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([1, -2, 0, 3, -4, 5], [2, 3]);
    const dy = tf.tensor2d([10, 20, 30, 40, 50, 60], [2, 3]);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), dy)))(x);
    const direct = reluGrad(dy, x);
    const [x3, dy3] = [tf.reshape(x, [2, 1, 3]) as tf.Tensor3D, tf.reshape(dy, [2, 1, 3]) as tf.Tensor3D];
    const dots = columnDot(x3, dy3);
    expect(Array.from(await grad.data())).toEqual([10, 0, 0, 40, 0, 60]);
    expect(Array.from(await direct.data())).toEqual([10, 0, 0, 40, 0, 60]);
    expect(Array.from(await dots.data())).toEqual([1 * 10 + 3 * 40, -2 * 20 - 4 * 50, 0 * 30 + 5 * 60]);
    tf.dispose([x, dy, x3, dy3, grad, direct, dots]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('AdlReluGrad on webgpu', () => {
  it('equals the cpu kernel bit for bit (x = 0 and NaN included), up to 129 × 131', async () => {
    for (const shape of [[30, 10], [7], [129, 131]]) {
      const rng = new TestRandom(size(shape));
      const x = Float32Array.from({ length: size(shape) }, (_, i) => (i % 7 === 0 ? 0 : i % 11 === 0 ? NaN : rng.normal()));
      const dy = rng.normals(size(shape));
      const inputs = { dy: host(dy, shape), x: host(x, shape) };
      const [gpu, cpu] = [await runKernelOn('webgpu', FUSED_KERNEL_NAMES.reluGrad, inputs), await runKernelOn('cpu', FUSED_KERNEL_NAMES.reluGrad, inputs)];
      expectClose('AdlReluGrad', gpu.outputs[0]!, cpu.outputs[0]!.values, shape, () => 0);
    }
  });
});

describe('AdlReluGrad on webgpu, over 65535 workgroups', () => {
  it('covers every element when the backend folds the dispatch into two dimensions (64 · 65535 + 3 elements)', async () => {
    const n = 64 * 65535 + 3;
    const rng = new TestRandom(3);
    const x = Float32Array.from({ length: n }, () => rng.uniform() - 0.5);
    const dy = Float32Array.from({ length: n }, (_, i) => i + 1);
    const run = await runKernelOn('webgpu', FUSED_KERNEL_NAMES.reluGrad, { dy: host(dy, [n]), x: host(x, [n]) });
    expectClose(
      'AdlReluGrad',
      run.outputs[0]!,
      Float32Array.from(x, (v, i) => (v > 0 ? dy[i]! : 0)),
      [n],
      () => 0,
    );
  });
});

describe('AdlSgdStep on webgpu', () => {
  // Each output is a few float32 operations, each rounded once by the cpu kernel; a GPU may fuse a
  // multiply-add (one rounding fewer) and its operations are exact to 1 ulp: 4 ulps of the largest
  // operand of the update.
  const tolerance = (w: Float32Array, g: Float32Array, v: Float32Array | undefined, lr: number) => (i: number) =>
    4 * F32_EPS * (Math.abs(w[i]!) + (1 + Math.abs(lr)) * (Math.abs(g[i]!) + Math.abs(w[i]!) + Math.abs(v?.[i] ?? 0)));
  const cases = [
    { shape: [7], learningRate: 0.1, momentum: 0.9, weightDecay: 0, nesterov: false, buffer: false },
    { shape: [], learningRate: 0.05, momentum: 0.9, weightDecay: 3e-4, nesterov: false, buffer: false },
    { shape: [3, 5, 11], learningRate: 0.025, momentum: 0.9, weightDecay: 3e-4, nesterov: false, buffer: true },
    { shape: [130, 130], learningRate: 0.3, momentum: 0.5, weightDecay: 1e-2, nesterov: true, buffer: true },
    { shape: [129, 3], learningRate: 0.01, momentum: 0.9, weightDecay: 0, nesterov: true, buffer: true },
  ];
  for (const { shape, buffer, ...options } of cases) {
    it(`[${shape}] ${buffer ? 'with' : 'without'} momentum buffer, nesterov ${options.nesterov}, wd ${options.weightDecay}: as the cpu kernel`, async () => {
      const rng = new TestRandom(7 + size(shape));
      const [w, g, v] = [rng.normals(size(shape)), rng.normals(size(shape), 0.1), rng.normals(size(shape), 0.1)];
      const inputs: Record<string, HostTensor> = { param: host(w, shape), grad: host(g, shape), ...(buffer ? { buffer: host(v, shape) } : {}) };
      const gpu = await runKernelOn('webgpu', FUSED_KERNEL_NAMES.sgdStep, inputs, options);
      const cpu = await runKernelOn('cpu', FUSED_KERNEL_NAMES.sgdStep, inputs, options);
      expect(gpu.outputs.length).toBe(buffer ? 2 : 1);
      expectClose('AdlSgdStep param', gpu.outputs[0]!, cpu.outputs[0]!.values, shape, tolerance(w, g, buffer ? v : undefined, options.learningRate));
      if (buffer) expectClose('AdlSgdStep buffer', gpu.outputs[1]!, cpu.outputs[1]!.values, shape, tolerance(v, g, w, 1));
    });
  }

  it('matches sgdStep’s composite form on webgpu through the public op', async () => {
    await useBackend('webgpu');
    const options = { learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov: true };
    const [w, g, v] = [tf.tensor1d([1, -2, 3]), tf.tensor1d([0.5, 0.25, -1]), tf.tensor1d([0.1, 0, -0.1])];
    const next = sgdStep(w, g, v, options);
    // By hand: g' = g + wd·w; v' = μ·v + g'; w' = w − lr·(g' + μ·v').
    const gd = [0.501, 0.248, -0.997];
    const vNew = gd.map((x, i) => 0.9 * [0.1, 0, -0.1][i]! + x);
    const wNew = [1, -2, 3].map((x, i) => x - 0.1 * (gd[i]! + 0.9 * vNew[i]!));
    expectClose('sgdStep op', { values: (await next.param.data()) as Float32Array, shape: next.param.shape }, wNew, [3], () => 1e-6);
    expectClose('sgdStep op', { values: (await next.buffer!.data()) as Float32Array, shape: next.buffer!.shape }, vNew, [3], () => 1e-6);
    tf.dispose([w, g, v, next.param, next.buffer!]);
  });
});

describe('AdlEdgeWeightedSum on webgpu', () => {
  // Terms per edge or shared ([P, 1, C]); 20 terms exceed one launch's bindings
  // under WebGPU's default limit of 16 storage buffers (llvmpipe's): two launches.
  const cases: Array<{ p: number; edges: number; c: number; shared: boolean[] }> = [
    { p: 33, edges: 3, c: 5, shared: [false, true, false] },
    { p: 9, edges: 1, c: 7, shared: [false, true] },
    { p: 1000, edges: 4, c: 8, shared: Array.from({ length: 20 }, (_, k) => k % 5 === 2) },
    { p: 7, edges: 2, c: 3, shared: [true] },
  ];
  for (const { p, edges, c, shared } of cases) {
    it(`P ${p}, E ${edges}, C ${c}, ${shared.length} terms (${shared.filter(Boolean).length} shared): as a float64 loop`, async () => {
      const rng = new TestRandom(p + edges + c);
      const m = shared.length;
      const weights = rng.normals(m * edges);
      const terms = shared.map((s) => host(rng.normals(p * (s ? 1 : edges) * c), [p, s ? 1 : edges, c]));
      const expected = new Float64Array(p * edges * c);
      const scale = new Float64Array(p * edges * c);
      for (let i = 0; i < expected.length; i++) {
        const [pixel, edge, channel] = [Math.floor(i / (edges * c)), Math.floor(i / c) % edges, i % c];
        for (let k = 0; k < m; k++) {
          const product = weights[k * edges + edge]! * terms[k]!.values[shared[k] ? pixel * c + channel : i]!;
          expected[i]! += product;
          scale[i]! += Math.abs(product);
        }
      }
      const run = await runKernelOn('webgpu', FUSED_KERNEL_NAMES.edgeWeightedSum, [host(weights, [m, edges]), ...terms]);
      // m products and m − 1 sums in float32, each rounded once: (m + 1) ulps of Σ|w·t|.
      expectClose('AdlEdgeWeightedSum', run.outputs[0]!, expected, [p, edges, c], (i) => (m + 1) * F32_EPS * scale[i]!);
    });
  }
});
