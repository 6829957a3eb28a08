import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs';

/** (before, after) padding of the two spatial axes of an NHWC tensor; both non-negative. */
export type SpatialPads = [[number, number], [number, number]];

/**
 * The few primitives the convolution gradients are built from. Two implementations: one calls a
 * backend's registered kernel functions directly (for use inside a kernel, where every intermediate
 * must be freed before returning), one calls tf ops (for use inside a gradient function).
 * Every result is owned by the caller, who frees it with `dispose` exactly once.
 */
export interface Prims {
  conv2d(x: TensorInfo, filter: TensorInfo, strides: [number, number], dilations: [number, number], pads: SpatialPads): TensorInfo;
  depthwise(x: TensorInfo, filter: TensorInfo, strides: [number, number], dilations: [number, number], pads: SpatialPads): TensorInfo;
  transpose(x: TensorInfo, perm: number[]): TensorInfo;
  reverse(x: TensorInfo, axes: number[]): TensorInfo;
  reshape(x: TensorInfo, shape: number[]): TensorInfo;
  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo;
  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo;
  sum(x: TensorInfo, axes: number[]): TensorInfo;
  tile(x: TensorInfo, reps: number[]): TensorInfo;
  concat(xs: TensorInfo[], axis: number): TensorInfo;
  dispose(x: TensorInfo): void;
}

function convPad(pads: SpatialPads): 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
  const [[t, b], [l, r]] = pads;
  return t === 0 && b === 0 && l === 0 && r === 0
    ? 'valid'
    : [
        [0, 0],
        [t, b],
        [l, r],
        [0, 0],
      ];
}

/** Primitives that run `backendName`'s kernel functions on `backend`, bypassing the engine (no tape, no tracking). */
export function kernelPrims(backend: KernelBackend, backendName: string): Prims {
  const run = (name: string, inputs: unknown, attrs: Record<string, unknown>): TensorInfo => {
    const kernel = tf.getKernel(name, backendName);
    if (kernel == null) throw new Error(`kernel '${name}' is not registered for backend '${backendName}'`);
    const out = kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend, attrs: attrs as tf.NamedAttrMap });
    return Array.isArray(out) ? (out[0] as TensorInfo) : out;
  };
  const conv = (name: string) => (x: TensorInfo, filter: TensorInfo, strides: [number, number], dilations: [number, number], pads: SpatialPads) =>
    run(name, { x, filter }, { strides, dilations, pad: convPad(pads), dataFormat: 'NHWC', dimRoundingMode: undefined });
  return {
    conv2d: conv('Conv2D'),
    depthwise: conv('DepthwiseConv2dNative'),
    transpose: (x, perm) => run('Transpose', { x }, { perm }),
    reverse: (x, axes) => run('Reverse', { x }, { dims: axes }),
    reshape: (x, shape) => run('Reshape', { x }, { shape }),
    pad: (x, paddings) => run('PadV2', { x }, { paddings, constantValue: 0 }),
    slice: (x, begin, size) => run('Slice', { x }, { begin, size }),
    sum: (x, axes) => run('Sum', { x }, { axis: axes, keepDims: false }),
    tile: (x, reps) => run('Tile', { x }, { reps }),
    concat: (xs, axis) => run('Concat', xs, { axis }),
    dispose: (x) => void backend.disposeData(x.dataId),
  };
}

/** Backends whose Conv2D / DepthwiseConv2dNative kernels are known to accept explicit (asymmetric) padding. */
const EXPLICIT_PAD_BACKENDS = new Set(['cpu', 'wasm', 'webgl']);

/** Primitives made of tf ops, for gradient functions (which run under the engine, on any backend). */
export function tensorPrims(): Prims {
  const t = (x: TensorInfo) => x as tf.Tensor;
  const conv =
    (op: 'conv2d' | 'depthwise') =>
    (x: TensorInfo, filter: TensorInfo, strides: [number, number], dilations: [number, number], pads: SpatialPads): TensorInfo => {
      let input = t(x) as tf.Tensor4D;
      let pad = convPad(pads);
      // Elsewhere (libtensorflow) pad explicitly rather than rely on explicit-padding support.
      if (pad !== 'valid' && !EXPLICIT_PAD_BACKENDS.has(tf.getBackend())) {
        input = tf.pad(input, pad);
        pad = 'valid';
      }
      const f = t(filter) as tf.Tensor4D;
      const out = op === 'conv2d' ? tf.conv2d(input, f, strides, pad, 'NHWC', dilations) : tf.depthwiseConv2d(input, f, strides, pad, 'NHWC', dilations);
      if (input !== x) input.dispose();
      return out;
    };
  return {
    conv2d: conv('conv2d'),
    depthwise: conv('depthwise'),
    transpose: (x, perm) => tf.transpose(t(x), perm),
    reverse: (x, axes) => tf.reverse(t(x), axes),
    reshape: (x, shape) => tf.reshape(t(x), shape),
    pad: (x, paddings) => tf.pad(t(x), paddings),
    slice: (x, begin, size) => tf.slice(t(x), begin, size),
    sum: (x, axes) => tf.sum(t(x), axes),
    tile: (x, reps) => tf.tile(t(x), reps),
    concat: (xs, axis) => tf.concat(xs.map(t), axis),
    dispose: (x) => t(x).dispose(),
  };
}
