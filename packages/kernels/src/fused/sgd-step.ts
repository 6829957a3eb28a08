import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { offsetOf, simdOnHeap } from '../wasm-heap.js';
import { arrayAccess } from './array-access.js';
import { FUSED_KERNEL_NAMES, hasFusedKernels } from './names.js';

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
export const sgdStepKernel: KernelFunc = ({ inputs, backend, attrs }) => {
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
    const [wAt, gAt, vAt] = [offsetOf(b, param), offsetOf(b, grad), offsetOf(b, buffer!)];
    k.sgdMomentum(wAt, gAt, vAt, offsetOf(b, paramOut), offsetOf(b, bufferOut!), 4 * quads, floatBits(lr), floatBits(mu), floatBits(wd), flags);
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
