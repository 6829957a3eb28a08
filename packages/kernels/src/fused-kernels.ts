import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { SimdKernels } from './simd-reduce.js';
import { heapWorkspace, isWasmHeapBackend, offsetOf, simdOnHeap, type WasmHeapBackend } from './wasm-heap.js';

/**
 * Fused element-wise kernels for the cpu and wasm backends, written as plain loops over the
 * backends' own buffers (the wasm heap, the cpu backend's typed arrays):
 * - `AdlBatchNormalize`: non-affine batch normalisation with batch statistics of a [G, P, C] tensor
 *   (G groups normalised separately), outputs y and the inverse deviation [G, C]; two passes.
 * - `AdlBatchNormalizeGrad`: its gradient from dy, y and the inverse deviation; two passes.
 * - `AdlReluGrad`: dy where x > 0, else 0; one pass (tfjs: Step, Cast and Multiply kernels).
 * - `AdlEdgeWeightedSum`: Σ_k w[k, e] · t_k[p, e, c] for terms t_k of [P, E, C] or [P, 1, C] (one
 *   term for every edge), out [P, E, C] (tfjs: a product per term, whose [E, 1] broadcast takes
 *   wasm's generic broadcast path, 4–8× slower than same-shape products, and an AddN). SIMD only
 *   (C a multiple of 4); elsewhere the tf ops.
 * - `AdlColumnDot`: Σ over rows of a ⊙ b for a [R, E, K] and b [R, E, K] or [R, 1, K], [E, K]; one
 *   pass (tfjs: a Multiply, broadcast or not, then a reduction that wasm runs as a transpose or a
 *   matrix product).
 * On wasm the composite forms cost 8–9 kernels per BN pass, several of them slow there (a mean over
 * a middle axis transposes the whole tensor first, a [G, P, C] · [G, 1, C] product takes a generic
 * broadcast path). On wasm with SIMD (C a multiple of 4 for BN) they run as the SIMD functions of
 * simd-reduce.ts on the heap — the channel sums by `tapReduce`, the per-channel affine maps by
 * `channelAffine`, two-pass statistics (mean, then the mean of squared deviations) summed in
 * float32 like tfjs' own kernels; elsewhere as plain loops with float64 sums.
 */

function batchNormalizeSimd({ k, b }: { k: SimdKernels; b: WasmHeapBackend }, x: TensorInfo, [g, p, c]: [number, number, number], epsilon: number): TensorInfo[] {
  const yInfo = b.makeOutput([...x.shape], 'float32');
  const invInfo = b.makeOutput([g, c], 'float32');
  // Rows: ones, zeros, sums, −mean.
  const work = heapWorkspace(b, 4, c);
  work.values.fill(1, 0, c);
  const inv = b.typedArrayFromHeap(invInfo);
  const [xo, yo, invo] = [offsetOf(b, x), offsetOf(b, yInfo), offsetOf(b, invInfo)];
  const { row } = work;
  const w = work.values;
  const cb = 4 * c;
  for (let group = 0; group < g; group++) {
    const [xg, yg] = [xo + group * p * cb, yo + group * p * cb];
    w.fill(0, 2 * c, 3 * c);
    k.tapReduce(xg, row(0), row(2), 1, 0, 0, p, cb, 0, cb);
    for (let i = 0; i < c; i++) w[3 * c + i] = -w[2 * c + i]! / p;
    k.channelAffine(xg, xg, yg, row(0), row(1), row(3), p, cb, cb, cb, cb); // x − mean
    w.fill(0, 2 * c, 3 * c);
    k.tapReduce(yg, yg, row(2), 1, 0, 0, p, cb, cb, cb);
    for (let i = 0; i < c; i++) inv[group * c + i] = 1 / Math.sqrt(w[2 * c + i]! / p + epsilon);
    k.channelAffine(yg, yg, yg, invo + group * cb, row(1), row(1), p, cb, cb, cb, cb);
  }
  work.dispose();
  return [yInfo, invInfo];
}

function batchNormalizeGradSimd(
  { k, b }: { k: SimdKernels; b: WasmHeapBackend },
  dy: TensorInfo,
  y: TensorInfo,
  invInfo: TensorInfo,
  [g, p, c]: [number, number, number],
): TensorInfo {
  const dxInfo = b.makeOutput([...y.shape], 'float32');
  // Rows: ones, Σ dy, Σ dy·y, −inv·mean(dy·y), −inv·mean(dy).
  const work = heapWorkspace(b, 5, c);
  work.values.fill(1, 0, c);
  const inv = b.typedArrayFromHeap(invInfo);
  const [dyo, yo, invo, dxo] = [offsetOf(b, dy), offsetOf(b, y), offsetOf(b, invInfo), offsetOf(b, dxInfo)];
  const { row } = work;
  const w = work.values;
  const cb = 4 * c;
  for (let group = 0; group < g; group++) {
    const [dyg, yg, dxg] = [dyo + group * p * cb, yo + group * p * cb, dxo + group * p * cb];
    w.fill(0, c, 3 * c);
    k.tapReduce(dyg, row(0), row(1), 1, 0, 0, p, cb, 0, cb);
    k.tapReduce(dyg, yg, row(2), 1, 0, 0, p, cb, cb, cb);
    for (let i = 0; i < c; i++) {
      const scale = inv[group * c + i]!;
      w[3 * c + i] = (-w[2 * c + i]! / p) * scale;
      w[4 * c + i] = (-w[c + i]! / p) * scale;
    }
    // dx = dy·inv + y·(−inv·mean(dy·y)) − inv·mean(dy)
    k.channelAffine(dyg, yg, dxg, invo + group * cb, row(3), row(4), p, cb, cb, cb, cb);
  }
  work.dispose();
  return dxInfo;
}

/** Typed-array access to a backend's tensors: outputs first (allocation may move the wasm heap), then views. */
interface ArrayAccess {
  output(shape: number[]): TensorInfo;
  view(t: TensorInfo): Float32Array;
}

interface CpuArrays {
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
  data: { get(dataId: object): { values: unknown } };
}

function arrayAccess(backend: KernelBackend): ArrayAccess {
  if (isWasmHeapBackend(backend)) {
    // The kernels take float32 tensors only (their callers check).
    return { output: (shape) => backend.makeOutput(shape, 'float32'), view: (t) => backend.typedArrayFromHeap(t) as Float32Array };
  }
  const cpu = backend as unknown as CpuArrays;
  return {
    output: (shape) => cpu.makeTensorInfo(shape, 'float32', new Float32Array(shape.reduce((a, b) => a * b, 1))),
    view: (t) => {
      const values = cpu.data.get(t.dataId).values;
      if (!(values instanceof Float32Array)) throw new Error(`fused kernels: expected float32 values, found ${t.dtype}`);
      return values;
    },
  };
}

interface BatchNormAttrs {
  groups: number;
  epsilon: number;
}

function groupShape(x: TensorInfo, groups: number): [number, number, number] {
  const c = x.shape[x.shape.length - 1]!;
  const size = x.shape.reduce((a, b) => a * b, 1);
  const pixels = size / c / groups;
  if (!Number.isInteger(pixels)) throw new Error(`AdlBatchNormalize: shape [${x.shape}] does not split into ${groups} groups`);
  return [groups, pixels, c];
}

const batchNormalizeKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = (inputs as { x: TensorInfo }).x;
  const { groups, epsilon } = attrs as unknown as BatchNormAttrs;
  const [g, p, c] = groupShape(x, groups);
  const simd = c % 4 === 0 ? simdOnHeap(backend) : null;
  if (simd) return batchNormalizeSimd(simd, x, [g, p, c], epsilon);
  const access = arrayAccess(backend as KernelBackend);
  const yInfo = access.output([...x.shape]);
  const invInfo = access.output([g, c]);
  const [xs, ys, inv] = [access.view(x), access.view(yInfo), access.view(invInfo)];
  for (let group = 0; group < g; group++) {
    const base = group * p * c;
    const end = base + p * c;
    // Channel by channel with the sums in registers (strided reads stay in cache: a group's
    // block is read c times in a row).
    for (let k = 0; k < c; k++) {
      let sum = 0;
      let squares = 0;
      for (let i = base + k; i < end; i += c) {
        const v = xs[i]!;
        sum += v;
        squares += v * v;
      }
      const mean = sum / p;
      const scale = 1 / Math.sqrt(Math.max(0, squares / p - mean * mean) + epsilon);
      inv[group * c + k] = scale;
      for (let i = base + k; i < end; i += c) ys[i] = (xs[i]! - mean) * scale;
    }
  }
  return [yInfo, invInfo];
};

const batchNormalizeGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, y, inv } = inputs as { dy: TensorInfo; y: TensorInfo; inv: TensorInfo };
  const { groups } = attrs as unknown as BatchNormAttrs;
  const [g, p, c] = groupShape(y, groups);
  const simd = c % 4 === 0 ? simdOnHeap(backend) : null;
  if (simd) return batchNormalizeGradSimd(simd, dy, y, inv, [g, p, c]);
  const access = arrayAccess(backend as KernelBackend);
  const dxInfo = access.output([...y.shape]);
  const [dys, ys, invs, dx] = [access.view(dy), access.view(y), access.view(inv), access.view(dxInfo)];
  for (let group = 0; group < g; group++) {
    const base = group * p * c;
    const end = base + p * c;
    for (let k = 0; k < c; k++) {
      let m1 = 0;
      let m2 = 0;
      for (let i = base + k; i < end; i += c) {
        const d = dys[i]!;
        m1 += d;
        m2 += d * ys[i]!;
      }
      m1 /= p;
      m2 /= p;
      const scale = invs[group * c + k]!;
      for (let i = base + k; i < end; i += c) dx[i] = (dys[i]! - m1 - ys[i]! * m2) * scale;
    }
  }
  return dxInfo;
};

const reluGradKernel: KernelFunc = ({ inputs, backend }) => {
  const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
  const access = arrayAccess(backend as KernelBackend);
  const dxInfo = access.output([...x.shape]);
  const [dys, xs, dx] = [access.view(dy), access.view(x), access.view(dxInfo)];
  // SIMD over whole quads where it can, the rest in the loop.
  const simd = simdOnHeap(backend);
  const quads = simd ? xs.length - (xs.length % 4) : 0;
  if (simd && quads > 0) simd.k.reluMask(offsetOf(simd.b, x), offsetOf(simd.b, dy), offsetOf(simd.b, dxInfo), 4 * quads);
  for (let i = quads; i < xs.length; i++) dx[i] = xs[i]! > 0 ? dys[i]! : 0;
  return dxInfo;
};

const columnDotKernel: KernelFunc = ({ inputs, backend }) => {
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const [rows, groups, k] = a.shape as [number, number, number];
  // b is [R, E, K] or [R, 1, K] (one row of K shared by the E groups).
  const shared = b.shape[1] === 1 && groups > 1;
  const access = arrayAccess(backend as KernelBackend);
  const outInfo = access.output([groups, k]);
  const out = access.view(outInfo);
  out.fill(0);
  const simd = k % 4 === 0 && rows > 0 ? simdOnHeap(backend) : null;
  if (simd) {
    const [ao, bo, oo] = [offsetOf(simd.b, a), offsetOf(simd.b, b), offsetOf(simd.b, outInfo)];
    if (!shared) {
      simd.k.tapReduce(ao, bo, oo, 1, 0, 0, rows, 4 * groups * k, 4 * groups * k, 4 * groups * k);
    } else {
      for (let e = 0; e < groups; e++) simd.k.tapReduce(ao + 4 * e * k, bo, oo + 4 * e * k, 1, 0, 0, rows, 4 * groups * k, 4 * k, 4 * k);
    }
    return outInfo;
  }
  const [as, bs] = [access.view(a), access.view(b)];
  const sums = new Float64Array(groups * k);
  for (let r = 0; r < rows; r++) {
    for (let e = 0; e < groups; e++) {
      const ai = (r * groups + e) * k;
      const bi = shared ? r * k : ai;
      for (let j = 0; j < k; j++) sums[e * k + j]! += as[ai + j]! * bs[bi + j]!;
    }
  }
  out.set(sums);
  return outInfo;
};

const edgeWeightedSumKernel: KernelFunc = ({ inputs, backend }) => {
  const [w, ...terms] = inputs as unknown as TensorInfo[];
  const [m, edges] = w!.shape as [number, number];
  const [p, , c] = terms[0]!.shape as [number, number, number];
  const simd = simdOnHeap(backend);
  if (simd == null || c % 4 !== 0) throw new Error('AdlEdgeWeightedSum: needs WebAssembly SIMD and C a multiple of 4');
  const { k, b } = simd;
  const row = edges * c;
  const outInfo = b.makeOutput([p, edges, c], 'float32');
  // Rows of E·C: ones, zeros, then per term w[k, e] repeated C times (edge e's C entries at e·C).
  const work = heapWorkspace(b, 2 + m, row);
  const ws = b.typedArrayFromHeap(w!);
  work.values.fill(1, 0, row);
  for (let t = 0; t < m; t++) for (let e = 0; e < edges; e++) work.values.fill(ws[t * edges + e]!, (2 + t) * row + e * c, (2 + t) * row + (e + 1) * c);
  const [ones, zeros] = [work.row(0), work.row(1)];
  const scale = (t: number, e = 0) => work.row(2 + t) + 4 * e * c;
  const out = offsetOf(b, outInfo);
  const [rb, cb] = [4 * row, 4 * c];
  const shared = terms.map((t) => t.shape[1] === 1 && edges > 1);
  let written = false;
  terms.forEach((term, t) => {
    if (shared[t]) return;
    const from = offsetOf(b, term);
    // The first term initialises the output, the others accumulate into it.
    if (!written) k.channelAffine(from, from, out, scale(t), zeros, zeros, p, rb, rb, rb, rb);
    else k.channelAffine(out, from, out, ones, scale(t), zeros, p, rb, rb, rb, rb);
    written = true;
  });
  if (!written) b.typedArrayFromHeap(outInfo).fill(0);
  terms.forEach((term, t) => {
    if (!shared[t]) return;
    // Edge by edge: the term's C channels (stride C) into the edge's slot of each pixel (stride E·C).
    const from = offsetOf(b, term);
    for (let e = 0; e < edges; e++) k.channelAffine(out + e * cb, from, out + e * cb, ones, scale(t, e), zeros, p, cb, rb, cb, rb);
  });
  work.dispose();
  return outInfo;
};

const bitsView = new DataView(new ArrayBuffer(4));

/** The bit pattern of a float32 as an int32 (how the SIMD functions take float parameters). */
function floatBits(value: number): number {
  bitsView.setFloat32(0, value, true);
  return bitsView.getInt32(0, true);
}

export interface SgdStepOptions {
  learningRate: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

/**
 * One SGD update of a parameter in one pass: `g ← g + wd·w; v ← μ·v + g; w ← w − lr·v` (Nesterov:
 * `w ← w − lr·(g + μ·v)`), outputs [w, v] (or [w] without momentum). Every operation is rounded to
 * float32 as the op-by-op form rounds it (a double result of two float32 operands rounds to the
 * float32 result), so both give the same bits.
 */
const sgdStepKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { param, grad, buffer } = inputs as { param: TensorInfo; grad: TensorInfo; buffer?: TensorInfo };
  const a = attrs as unknown as SgdStepOptions;
  const [lr, mu, wd] = [Math.fround(a.learningRate), Math.fround(a.momentum), Math.fround(a.weightDecay)];
  const access = arrayAccess(backend as KernelBackend);
  const paramOut = access.output([...param.shape]);
  const bufferOut = buffer ? access.output([...buffer.shape]) : undefined;
  const [w, g, wNew] = [access.view(param), access.view(grad), access.view(paramOut)];
  const v = buffer ? access.view(buffer) : undefined;
  const vNew = bufferOut ? access.view(bufferOut) : undefined;
  // SIMD over whole quads where it can (with momentum), the rest in the loop.
  const simd = bufferOut ? simdOnHeap(backend) : null;
  const quads = simd ? w.length - (w.length % 4) : 0;
  if (simd && quads > 0) {
    const { k, b } = simd;
    const flags = (wd > 0 ? 1 : 0) | (a.nesterov ? 2 : 0);
    k.sgdMomentum(offsetOf(b, param), offsetOf(b, grad), offsetOf(b, buffer!), offsetOf(b, paramOut), offsetOf(b, bufferOut!), 4 * quads, floatBits(lr), floatBits(mu), floatBits(wd), flags);
  }
  const f = Math.fround;
  for (let i = quads; i < w.length; i++) {
    const wi = w[i]!;
    const gi = wd > 0 ? f(g[i]! + f(wi * wd)) : g[i]!;
    let direction = gi;
    if (v && vNew) {
      const vi = f(f(v[i]! * mu) + gi);
      vNew[i] = vi;
      direction = a.nesterov ? f(gi + f(vi * mu)) : vi;
    }
    wNew[i] = f(wi - f(direction * lr));
  }
  return bufferOut ? [paramOut, bufferOut] : [paramOut];
};

export const FUSED_KERNEL_NAMES = {
  batchNormalize: 'AdlBatchNormalize',
  batchNormalizeGrad: 'AdlBatchNormalizeGrad',
  reluGrad: 'AdlReluGrad',
  columnDot: 'AdlColumnDot',
  edgeWeightedSum: 'AdlEdgeWeightedSum',
  sgdStep: 'AdlSgdStep',
} as const;

const FUSED_BACKENDS = ['wasm', 'cpu'] as const;

export const FUSED_KERNELS: readonly KernelConfig[] = [
  { kernelName: FUSED_KERNEL_NAMES.edgeWeightedSum, backendName: 'wasm', kernelFunc: edgeWeightedSumKernel },
  ...FUSED_BACKENDS.flatMap((backendName): KernelConfig[] => [
  { kernelName: FUSED_KERNEL_NAMES.batchNormalize, backendName, kernelFunc: batchNormalizeKernel },
  { kernelName: FUSED_KERNEL_NAMES.batchNormalizeGrad, backendName, kernelFunc: batchNormalizeGradKernel },
  { kernelName: FUSED_KERNEL_NAMES.reluGrad, backendName, kernelFunc: reluGradKernel },
  { kernelName: FUSED_KERNEL_NAMES.columnDot, backendName, kernelFunc: columnDotKernel },
  { kernelName: FUSED_KERNEL_NAMES.sgdStep, backendName, kernelFunc: sgdStepKernel },
  ]),
];

/** Whether the current backend has the fused kernels (else callers use the composite forms). */
export function hasFusedKernels(): boolean {
  return tf.getKernel(FUSED_KERNEL_NAMES.reluGrad, tf.getBackend()) != null;
}

/** dy where x > 0, else 0 (the gradient of ReLU), fused where the backend has the kernel. */
export function reluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (hasFusedKernels() && dy.dtype === 'float32' && x.dtype === 'float32') {
    return tf.engine().runKernel(FUSED_KERNEL_NAMES.reluGrad, { dy, x }, {}) as tf.Tensor;
  }
  return tf.mul(dy, tf.cast(tf.step(x), 'float32'));
}

/**
 * For a [R, E, K] and b [R, E, K] or [R, 1, K] (shared by the E groups): Σ over the rows of a ⊙ b,
 * [E, K]. Not differentiable (meant for gradient functions).
 */
export function columnDot(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor2D {
  if (hasFusedKernels() && a.dtype === 'float32' && b.dtype === 'float32') {
    return tf.engine().runKernel(FUSED_KERNEL_NAMES.columnDot, { a, b }, {}) as tf.Tensor2D;
  }
  return tf.tidy(() => tf.sum(tf.mul(a, b), 0) as tf.Tensor2D);
}

/**
 * Σ_k weights[k, e] · terms[k][p, e, c]: terms [P, E, C] or [P, 1, C] (the same for every edge),
 * weights [K, E]; [P, E, C]. The fused kernel on wasm with SIMD (C a multiple of 4), else tf ops.
 * Not differentiable (callers wrap it in a custom gradient).
 */
export function edgeWeightedSum(weights: tf.Tensor2D, terms: readonly tf.Tensor3D[]): tf.Tensor3D {
  const [, edges] = weights.shape;
  const [p, , c] = terms[0]!.shape;
  const fused =
    tf.getKernel(FUSED_KERNEL_NAMES.edgeWeightedSum, tf.getBackend()) != null &&
    c % 4 === 0 &&
    simdOnHeap(tf.backend()) != null &&
    [weights, ...terms].every((t) => t.dtype === 'float32');
  if (fused) return tf.engine().runKernel(FUSED_KERNEL_NAMES.edgeWeightedSum, [weights, ...terms] as unknown as tf.NamedTensorMap, {}) as tf.Tensor3D;
  return tf.tidy(() => {
    const rows = tf.unstack(weights);
    const products = terms.map((t, k) => tf.mul(t, tf.reshape(rows[k]!, [1, edges, 1])));
    const sum = products.length === 1 ? products[0]! : tf.addN(products);
    return (sum.shape[1] === edges ? sum : tf.broadcastTo(sum, [p, edges, c])) as tf.Tensor3D;
  });
}

/** Relu's gradient through `reluGrad`; AdlReluGrad's own gradient (for second derivatives). */
export const FUSED_GRADIENTS: readonly GradConfig[] = [
  {
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => reluGrad(dy as tf.Tensor, x) };
    },
  },
  {
    kernelName: FUSED_KERNEL_NAMES.reluGrad,
    inputsToSave: ['x'],
    gradFunc: (ddx, saved) => {
      const [x] = saved as [tf.Tensor];
      return { dy: () => reluGrad(ddx as tf.Tensor, x), x: () => tf.zerosLike(x) };
    },
  },
];

/**
 * The SGD update of one parameter (see `sgdStepKernel`): the new parameter and, with a momentum
 * `buffer`, the new buffer. One kernel where the backend has it (a step over the thousands of
 * variables of a supernet is otherwise ~8 launches per variable), else the same operations as tf ops.
 * Not differentiable.
 */
export function sgdStep(param: tf.Tensor, grad: tf.Tensor, buffer: tf.Tensor | undefined, o: SgdStepOptions): { param: tf.Tensor; buffer?: tf.Tensor } {
  const float = [param, grad, ...(buffer ? [buffer] : [])].every((t) => t.dtype === 'float32');
  if (hasFusedKernels() && float) {
    const inputs = (buffer ? { param, grad, buffer } : { param, grad }) as unknown as tf.NamedTensorMap;
    const [p, b] = tf.engine().runKernel(FUSED_KERNEL_NAMES.sgdStep, inputs, { ...o } as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
    return b ? { param: p!, buffer: b } : { param: p! };
  }
  return tf.tidy(() => {
    const g = o.weightDecay > 0 ? tf.add(grad, tf.mul(param, o.weightDecay)) : grad;
    // As the kernel: a buffer is updated (v = μ·v + g) whenever one is given.
    if (!buffer) return { param: tf.sub(param, tf.mul(g, o.learningRate)) };
    const v = tf.add(tf.mul(buffer, o.momentum), g);
    const direction = o.nesterov ? tf.add(g, tf.mul(v, o.momentum)) : v;
    return { param: tf.sub(param, tf.mul(direction, o.learningRate)), buffer: v };
  });
}
