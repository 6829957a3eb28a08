import * as tf from '@tensorflow/tfjs';
import { backendConstant } from '../constants.js';
import type { ConvolutionSpec, StackInput } from './types.js';

/**
 * The kernel-level pieces of the stacked forms: per-edge weights stacked into one kernel (exact:
 * every step is per channel or per edge, and the per-edge modules keep their variables; the stacked
 * kernels are concatenated from them on every call, gradient a split), and the convolutions a form
 * runs through `StackInput.convolve`.
 */

/** A cached 0/1 constant selecting the diagonal blocks (a few bytes). */
function diagonalMask(e: number, shape: number[]): tf.Tensor {
  return backendConstant(`diagonal-mask:${e}:${shape.join(',')}`, () => tf.reshape(tf.eye(e), shape));
}

/**
 * The 1×1 kernel [1, 1, E·C, E·C] applying edge e's kernel `kernels[e]` ([1, 1, C, C]) to input
 * channels of edge e, output in edge-major order (e·C + c). `input` says how the input channels are
 * ordered: edge-major (e·C + c) or channel-major (c·E + e, a depthwise conv's channel multiplier).
 */
export function blockDiagonal(kernels: readonly tf.Tensor4D[], input: 'edge-major' | 'channel-major'): tf.Tensor4D {
  const e = kernels.length;
  const c = kernels[0]!.shape[2];
  if (e === 1) return kernels[0]!;
  if (input === 'edge-major') {
    const stacked = tf.concat(
      kernels.map((k) => tf.reshape(k, [1, c, 1, c])),
      0,
    ); // [E, C, 1, C]
    return tf.reshape(tf.mul(stacked, diagonalMask(e, [e, 1, e, 1])), [1, 1, e * c, e * c]);
  }
  const stacked = tf.concat(
    kernels.map((k) => tf.reshape(k, [c, 1, 1, c])),
    1,
  ); // [C, E, 1, C]
  return tf.reshape(tf.mul(stacked, diagonalMask(e, [1, e, e, 1])), [1, 1, c * e, e * c]);
}

/**
 * The E kernels (equal shapes) stacked on a new OUTER axis, [E, size/last, last], by
 * `concatSliceGrad` (gradient: one part of dy along the outer axis per kernel). Callers transpose it into the
 * layout they need.
 */
function stackOuter(kernels: readonly tf.Tensor[]): tf.Tensor3D {
  const shape = kernels[0]!.shape;
  const last = shape[shape.length - 1]!;
  const inner = kernels[0]!.size / last;
  return concatSliceGrad(
    kernels.map((k) => tf.reshape(k, [1, inner, last]) as tf.Tensor3D),
    0,
  );
}

/**
 * `tf.concat` whose gradient is one slice of dy per input. tfjs' own gradient is a split, the same
 * slices as one kernel; separate slices let the engine free each piece as soon as it is consumed.
 * (On wasm, @autodeeplab/kernels' Slice copies just the piece: tfjs-backend-wasm's copies the whole
 * input first.)
 */
export function concatSliceGrad<T extends tf.Tensor>(ts: readonly T[], axis: number): T {
  if (ts.length === 1) return ts[0]!;
  const rank = ts[0]!.rank;
  const ax = axis < 0 ? axis + rank : axis;
  const sizes = ts.map((t) => t.shape[ax]!);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const inputs = args.slice(0, ts.length) as tf.Tensor[];
    return {
      value: tf.concat(inputs, ax),
      gradFunc: (dy: tf.Tensor) => {
        let offset = 0;
        return sizes.map((size) => {
          const part = sliceRange(dy, ax, offset, size);
          offset += size;
          return part;
        });
      },
    };
  });
  return op(...ts) as T;
}

function sliceRange(x: tf.Tensor, axis: number, begin: number, size: number): tf.Tensor {
  const begins = x.shape.map(() => 0);
  const sizes = [...x.shape];
  begins[axis] = begin;
  sizes[axis] = size;
  return tf.slice(x, begins, sizes);
}

/**
 * Below this many rows (runs of contiguous values in the split of the gradient) a stack of kernels
 * is a plain `tf.concat`: its gradient, one split kernel, copies the pieces row by row (a few
 * rows cost less than the transpose and E slice launches of the outer-axis form).
 */
const SMALL_STACK_ROWS = 1024;

/**
 * Per-edge kernels [k, k, C, D] as one kernel with the edges interleaved at `axis` 2 (input channels,
 * edge-major: e·C + c; D = 1) or 3 (output channels, edge-major e·D + d, or channel-major d·E + e
 * when D = 1: a depthwise conv's channel multiplier). Large stacks (the 5×5 atrous kernels: 1.6 M
 * values at C = 64, E = 10) are built on an outer axis then transposed, so that the gradient's E
 * pieces are contiguous slices rather than a split copying them row by row.
 */
export function stackKernels(ts: readonly tf.Tensor4D[], axis: 2 | 3): tf.Tensor4D {
  if (ts.length === 1) return ts[0]!;
  const e = ts.length;
  const [k1, k2, c, d] = ts[0]!.shape;
  if (e * k1 * k2 * (axis === 3 ? c : 1) < SMALL_STACK_ROWS) return tf.concat([...ts], axis);
  if (axis === 2) {
    // [E, k·k·C·1] → [k·k, E, C]: input channel e·C + c.
    return tf.reshape(tf.transpose(tf.reshape(stackOuter(ts), [e, k1 * k2, c * d]), [1, 0, 2]), [k1, k2, e * c, d]);
  }
  // [E, k·k·C, D] → [k·k·C, E, D]: output channel e·D + d (for D = 1 also d·E + e).
  return tf.reshape(tf.transpose(stackOuter(ts), [1, 0, 2]), [k1, k2, c, e * d]);
}

/**
 * How a stack of E pointwise (1×1) convolutions runs. `block-diagonal`: one [E·C, E·C] convolution
 * whose off-diagonal blocks are zero (few kernels, but E× the multiply-adds); `per-edge`: the input
 * split into its E edges, one [C, C] convolution each, outputs concatenated (~2E more kernels, 1/E of
 * the arithmetic). `auto` picks by the channels per edge (see `pointwisePerEdge`).
 */
export const stackedPointwiseOptions: { mode: 'auto' | 'block-diagonal' | 'per-edge' } = { mode: 'auto' };

/**
 * `auto`: per-edge convolutions for wide edges only. Narrow 1×1 convolutions run far below a
 * backend's peak and the split, transpose and concatenation cost more than the zero blocks; wide
 * ones make the block-diagonal form's extra arithmetic dominate (docs/benchmarks.md has the figures).
 */
export function pointwisePerEdge(edges: number, channels: number): boolean {
  const { mode } = stackedPointwiseOptions;
  if (edges === 1 || mode === 'block-diagonal') return false;
  return mode === 'per-edge' || (channels >= 32 && edges * channels >= 96);
}

/** [N, H, W, C·E] with channel c·E + e (a depthwise conv's multiplier) → edge-major e·C + c. */
export function channelToEdgeMajor(h: tf.Tensor4D, edges: number): tf.Tensor4D {
  const [n, height, width, channels] = h.shape;
  const c = channels / edges;
  const t = tf.transpose(tf.reshape(h, [n * height * width, c, edges]), [0, 2, 1]);
  return tf.reshape(t, [n, height, width, channels]);
}

/** Edge e's 1×1 kernel applied to edge e's channels of edge-major `h`, outputs edge-major. */
export function perEdgePointwise(input: StackInput, h: tf.Tensor4D, kernels: readonly tf.Tensor4D[]): tf.Tensor4D {
  const parts = tf.split(h, kernels.length, 3) as tf.Tensor4D[];
  return concatSliceGrad(
    parts.map((part, e) => convolve(input, part, kernels[e]!, POINTWISE)),
    3,
  );
}

export const POINTWISE: ConvolutionSpec = { dilation: 1 };

/** `tf.conv2d` or `tf.depthwiseConv2d` (stride 1, 'same') as `spec` says. */
export function convolution(x: tf.Tensor4D, filter: tf.Tensor4D, spec: ConvolutionSpec): tf.Tensor4D {
  return spec.depthwise ? tf.depthwiseConv2d(x, filter, 1, 'same', 'NHWC', spec.dilation) : tf.conv2d(x, filter, 1, 'same', 'NHWC', spec.dilation);
}

/** A convolution of a stacked op: through the input's `convolve` when it has one (see StackInput). */
export function convolve(input: StackInput, x: tf.Tensor4D, filter: tf.Tensor4D, spec: ConvolutionSpec): tf.Tensor4D {
  return input.convolve ? input.convolve(x, filter, spec) : convolution(x, filter, spec);
}
