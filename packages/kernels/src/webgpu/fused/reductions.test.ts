import { afterAll, describe, it } from 'vitest';
import { FUSED_KERNEL_NAMES } from '../../fused/index.js';
import { TestRandom } from '../../testing/random.js';
import { F32_EPS as u, expectClose, host, reportObservedErrors, runKernelOn } from './kernel-check.js';

// The reducing fused kernels on webgpu (AdlBatchNormalize, AdlBatchNormalizeGrad, AdlColumnDot)
// against the same kernels on cpu (float64 sums), at odd sizes, several tiles of channels, and
// sizes of many workgroups. Tolerances: a float32 sum of n terms errs by at most (n − 1)·u·Σ|terms|
// (u = 2⁻²⁴) whatever its order; n is taken as the whole reduction plus the lanes' tree, so the
// bounds do not depend on how the kernels tile.

afterAll(reportObservedErrors);

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Per group and channel of [G, P, C] values: the mean of f(value, element index). */
function channelMeans(count: number, [g, p, c]: number[], f: (i: number) => number): Float64Array {
  const means = new Float64Array(g! * c!);
  for (let i = 0; i < count; i++) means[Math.floor(i / (p! * c!)) * c! + (i % c!)]! += f(i) / p!;
  return means;
}

const channelOf = (i: number, [, p, c]: number[]) => Math.floor(i / (p! * c!)) * c! + (i % c!);

const BATCH_NORM_CASES: Array<{ shape: number[]; groups: number }> = [
  { shape: [2, 3, 5, 7], groups: 1 },
  { shape: [2, 3, 5, 7], groups: 2 },
  { shape: [1, 10, 9, 40], groups: 1 },
  { shape: [4, 16, 16, 20], groups: 2 },
  { shape: [2, 33, 33, 3], groups: 1 },
  { shape: [2, 40, 40, 16], groups: 1 },
  { shape: [1, 1, 1, 5], groups: 1 },
];

describe('AdlBatchNormalize and AdlBatchNormalizeGrad on webgpu', () => {
  const epsilon = 1e-5;
  for (const { shape, groups } of BATCH_NORM_CASES) {
    it(`x [${shape}], ${groups} group(s): y, inv and dx as on cpu`, async () => {
      const n = size(shape);
      const c = shape[3]!;
      const p = n / c / groups;
      const layout = [groups, p, c];
      const rng = new TestRandom(n + groups);
      // An offset of 3 standard deviations 2: the variance must not come from Σx² − (Σx)².
      const x = Float32Array.from(rng.normals(n, 2), (v) => v + 3);
      const attrs = { groups, epsilon };
      const gpu = await runKernelOn('webgpu', FUSED_KERNEL_NAMES.batchNormalize, { x: host(x, shape) }, attrs);
      const cpu = await runKernelOn('cpu', FUSED_KERNEL_NAMES.batchNormalize, { x: host(x, shape) }, attrs);
      const [y, inv] = [cpu.outputs[0]!.values, cpu.outputs[1]!.values];
      // The mean errs by (P + 9)·u·mean|x|; the variance, relatively, by (P + 12)·u (its sum, and
      // each squared deviation's rounding), so inv by half that and the square root's and division's
      // ulps. Doubled for second-order terms and the oracle's own float32 rounding.
      const meanAbs = channelMeans(n, layout, (i) => Math.abs(x[i]!));
      const meanError = (k: number) => (p + 9) * u * meanAbs[k]!;
      const invRelative = (p / 2 + 12) * u;
      const tolY = (i: number) => 2 * (inv[channelOf(i, layout)]! * meanError(channelOf(i, layout)) + Math.abs(y[i]!) * invRelative) + 2 * u * Math.abs(y[i]!);
      expectClose('AdlBatchNormalize y', gpu.outputs[0]!, y, shape, tolY);
      expectClose('AdlBatchNormalize inv', gpu.outputs[1]!, inv, [groups, c], (k) => 2 * inv[k]! * invRelative);

      const dy = rng.normals(n);
      const gradInputs = { dy: host(dy, shape), y: host(y, shape), inv: host(inv, [groups, c]) };
      const dxGpu = await runKernelOn('webgpu', FUSED_KERNEL_NAMES.batchNormalizeGrad, gradInputs, { groups });
      const dxCpu = await runKernelOn('cpu', FUSED_KERNEL_NAMES.batchNormalizeGrad, gradInputs, { groups });
      // dx = (dy − m1 − y·m2)·inv: m1 = mean(dy) errs by (P + 9)·u·mean|dy|, m2 = mean(dy·y) by
      // (P + 11)·u·mean|dy·y|; then 4 roundings of the terms. Doubled as above.
      const m1 = channelMeans(n, layout, (i) => dy[i]!);
      const m2 = channelMeans(n, layout, (i) => dy[i]! * y[i]!);
      const m1Abs = channelMeans(n, layout, (i) => Math.abs(dy[i]!));
      const m2Abs = channelMeans(n, layout, (i) => Math.abs(dy[i]! * y[i]!));
      const tolDx = (i: number) => {
        const k = channelOf(i, layout);
        const [yi, mean1, mean2] = [Math.abs(y[i]!), (p + 9) * u * m1Abs[k]!, (p + 11) * u * m2Abs[k]!];
        return 2 * inv[k]! * (mean1 + yi * mean2 + 4 * u * (Math.abs(dy[i]!) + Math.abs(m1[k]!) + yi * Math.abs(m2[k]!)));
      };
      expectClose('AdlBatchNormalizeGrad dx', dxGpu.outputs[0]!, dxCpu.outputs[0]!.values, shape, tolDx);
    });
  }
});

describe('AdlColumnDot on webgpu', () => {
  const cases: Array<[rows: number, groups: number, k: number, shared: boolean]> = [
    [37, 3, 12, false],
    [37, 3, 12, true],
    [9, 2, 5, false],
    [9, 2, 5, true],
    [1, 1, 1, false],
    [1000, 2, 3, true],
    [300, 14, 40, false],
    [257, 5, 7, true],
  ];
  for (const [rows, groups, k, shared] of cases) {
    it(`a [${rows}, ${groups}, ${k}], b ${shared ? 'shared' : 'per group'}: as on cpu`, async () => {
      const rng = new TestRandom(rows * 31 + groups * 7 + k);
      const bGroups = shared ? 1 : groups;
      const a = rng.normals(rows * groups * k);
      const b = rng.normals(rows * bGroups * k);
      const inputs = { a: host(a, [rows, groups, k]), b: host(b, [rows, bGroups, k]) };
      const gpu = await runKernelOn('webgpu', FUSED_KERNEL_NAMES.columnDot, inputs);
      const cpu = await runKernelOn('cpu', FUSED_KERNEL_NAMES.columnDot, inputs);
      // R products summed in float32: (R + 9)·u·Σ|a·b| (the lanes' tree included), and the oracle's rounding.
      const scale = new Float64Array(groups * k);
      for (let r = 0; r < rows; r++) {
        for (let col = 0; col < groups * k; col++) scale[col]! += Math.abs(a[r * groups * k + col]! * b[shared ? r * k + (col % k) : r * groups * k + col]!);
      }
      const expected = cpu.outputs[0]!.values;
      expectClose('AdlColumnDot', gpu.outputs[0]!, expected, [groups, k], (i) => (rows + 9) * u * scale[i]! + u * Math.abs(expected[i]!));
    });
  }
});
