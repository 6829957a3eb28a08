import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { heapWorkspace, offsetOf, simdOnHeap } from '../wasm-heap.js';
import { FUSED_KERNEL_NAMES } from './names.js';

/**
 * AdlEdgeWeightedSum (wasm only): Σ_k w[k, e] · t_k[p, e, c] for terms t_k of [P, E, C] or [P, 1, C]
 * (one term for every edge), out [P, E, C], by `channelAffine` on the heap. tfjs would run a product
 * per term, whose [E, 1] broadcast takes wasm's generic broadcast path (much slower than same-shape
 * products), and an AddN. SIMD only (C a multiple of 4); elsewhere the tf ops.
 */

export const edgeWeightedSumKernel: KernelFunc = ({ inputs, backend }) => {
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

/**
 * Σ_k weights[k, e] · terms[k][p, e, c]: terms [P, E, C] or [P, 1, C] (the same for every edge),
 * weights [K, E]; [P, E, C]. The fused kernel on webgpu, and on wasm with SIMD (C a multiple of 4), else tf ops.
 * Not differentiable (callers wrap it in a custom gradient).
 */
export function edgeWeightedSum(weights: tf.Tensor2D, terms: readonly tf.Tensor3D[]): tf.Tensor3D {
  const [, edges] = weights.shape;
  const [p, , c] = terms[0]!.shape;
  // wasm's kernel needs SIMD and C a multiple of 4; webgpu's (webgpu/fused/) takes any shape.
  const kernelTakesIt = tf.getBackend() === 'webgpu' || (c % 4 === 0 && simdOnHeap(tf.backend()) != null);
  const fused =
    tf.getKernel(FUSED_KERNEL_NAMES.edgeWeightedSum, tf.getBackend()) != null && kernelTakesIt && [weights, ...terms].every((t) => t.dtype === 'float32');
  if (fused) return tf.engine().runKernel(FUSED_KERNEL_NAMES.edgeWeightedSum, [weights, ...terms] as unknown as tf.NamedTensorMap, {}) as tf.Tensor3D;
  return tf.tidy(() => {
    const rows = tf.unstack(weights);
    const products = terms.map((t, k) => tf.mul(t, tf.reshape(rows[k]!, [1, edges, 1])));
    const sum = products.length === 1 ? products[0]! : tf.addN(products);
    return (sum.shape[1] === edges ? sum : tf.broadcastTo(sum, [p, edges, c])) as tf.Tensor3D;
  });
}
