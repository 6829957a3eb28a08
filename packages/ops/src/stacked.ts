import * as tf from '@tensorflow/tfjs';
import { batchNormalize } from './batch-norm.js';
import { SepConv, DilConv, Identity, Pool3x3 } from './builtins.js';
import { getOpMeta, isPreActivated, type ConvolutionSpec, type Op, type StackInput, type StackOutput } from './registry.js';

/**
 * Edge stacking: the E ops of one kind that read the same tensor (all edges leaving one cell input)
 * run as one set of kernels on channel-stacked weights. Exact: every step is per channel (depthwise
 * convs, BN, ReLU) or per edge (1×1 convs: block-diagonal, or one convolution per edge for wide
 * channels), and BN of a channel concatenation is the concatenation of the BNs. The per-edge
 * modules keep their variables; the stacked kernels are concatenated from them on every call (one
 * kernel, gradient a split).
 */

/** Applies `ops` (all created from registry entry `name`) to a shared input, stacked when the entry can. */
export function applyStacked(name: string, ops: readonly Op[], input: StackInput): StackOutput {
  if (ops.length === 0) throw new Error('applyStacked: no ops');
  const stacked = getOpMeta(name).stack?.(ops, input);
  return stacked ?? applyEach(ops, input);
}

/**
 * Fallback: each op on its own, each batch group on its own (an op's BN must not mix the groups),
 * outputs concatenated on channels.
 */
export function applyEach(ops: readonly Op[], input: StackInput): StackOutput {
  const { groups } = input;
  const run = (op: Op): tf.Tensor4D => {
    const pre = isPreActivated(op);
    const source = pre ? input.relu() : input.x;
    const call = (t: tf.Tensor4D) => (pre ? op.applyPreActivated!(t) : op.apply(t));
    if (groups === 1) return call(source);
    const n = source.shape[0] / groups;
    const parts = Array.from({ length: groups }, (_, g) => call(tf.slice(source, [g * n, 0, 0, 0], [n, -1, -1, -1])));
    return concatSliceGrad(parts, 0);
  };
  const outputs = ops.map(run);
  return { y: concatSliceGrad(outputs, 3), shared: false };
}

const masks = new Map<string, tf.Tensor>();

/** A cached 0/1 constant selecting the diagonal blocks (kept for the process' life: a few bytes). */
function diagonalMask(e: number, shape: number[]): tf.Tensor {
  const key = `${e}:${shape.join(',')}`;
  let mask = masks.get(key);
  if (!mask) {
    mask = tf.tidy(() => tf.reshape(tf.eye(e), shape));
    tf.keep(mask);
    masks.set(key, mask);
  }
  return mask;
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
    const stacked = tf.concat(kernels.map((k) => tf.reshape(k, [1, c, 1, c])), 0); // [E, C, 1, C]
    return tf.reshape(tf.mul(stacked, diagonalMask(e, [e, 1, e, 1])), [1, 1, e * c, e * c]);
  }
  const stacked = tf.concat(kernels.map((k) => tf.reshape(k, [c, 1, 1, c])), 1); // [C, E, 1, C]
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
  return concatSliceGrad(kernels.map((k) => tf.reshape(k, [1, inner, last]) as tf.Tensor3D), 0);
}

/**
 * `tf.concat` whose gradient is one slice of dy per input. tfjs' own gradient is a split, the same
 * slices as one kernel; separate slices let the engine free each piece as soon as it is consumed.
 * (On wasm, @autodeeplab/core's Slice copies just the piece: tfjs-backend-wasm's copies the whole
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
 * Measured on wasm (one stacked sep conv 5×5, forward + backward, E = 2, 3, 5, 5×5 to 81×81 pixels):
 * per-edge wins at C ≥ 32 (up to 2× at C = 64) except E = 2 at C = 32 (a tie); at C = 8 and 16 the
 * block-diagonal form wins at every size (XNNPACK's narrow 1×1 convolutions run far below its peak
 * and the split, transpose and concatenation cost more than the zero blocks).
 */
function pointwisePerEdge(edges: number, channels: number): boolean {
  const { mode } = stackedPointwiseOptions;
  if (edges === 1 || mode === 'block-diagonal') return false;
  return mode === 'per-edge' || (channels >= 32 && edges * channels >= 96);
}

/** [N, H, W, C·E] with channel c·E + e (a depthwise conv's multiplier) → edge-major e·C + c. */
function channelToEdgeMajor(h: tf.Tensor4D, edges: number): tf.Tensor4D {
  const [n, height, width, channels] = h.shape;
  const c = channels / edges;
  const t = tf.transpose(tf.reshape(h, [n * height * width, c, edges]), [0, 2, 1]);
  return tf.reshape(t, [n, height, width, channels]);
}

/** Edge e's 1×1 kernel applied to edge e's channels of edge-major `h`, outputs edge-major. */
function perEdgePointwise(input: StackInput, h: tf.Tensor4D, kernels: readonly tf.Tensor4D[]): tf.Tensor4D {
  const parts = tf.split(h, kernels.length, 3) as tf.Tensor4D[];
  return concatSliceGrad(
    parts.map((part, e) => convolve(input, part, kernels[e]!, POINTWISE)),
    3,
  );
}

const POINTWISE: ConvolutionSpec = { dilation: 1 };

/** `tf.conv2d` or `tf.depthwiseConv2d` (stride 1, 'same') as `spec` says. */
export function convolution(x: tf.Tensor4D, filter: tf.Tensor4D, spec: ConvolutionSpec): tf.Tensor4D {
  return spec.depthwise ? tf.depthwiseConv2d(x, filter, 1, 'same', 'NHWC', spec.dilation) : tf.conv2d(x, filter, 1, 'same', 'NHWC', spec.dilation);
}

/** A convolution of a stacked op: through the input's `convolve` when it has one (see StackInput). */
function convolve(input: StackInput, x: tf.Tensor4D, filter: tf.Tensor4D, spec: ConvolutionSpec): tf.Tensor4D {
  return input.convolve ? input.convolve(x, filter, spec) : convolution(x, filter, spec);
}

/** (ReLU → depthwise → pointwise → BN) × 2 for E edges: ~12 kernels whatever E (block-diagonal 1×1s), ~2E more per-edge. */
export function stackSepConv(ops: readonly Op[], input: StackInput): StackOutput | undefined {
  if (!ops.every((o): o is SepConv => o instanceof SepConv)) return undefined;
  const first = ops[0]!;
  const { kernelSize, dilation } = first.dw1.spec;
  const compatible = (o: SepConv) =>
    o.dw1.spec.stride === 1 && o.dw1.spec.kernelSize === kernelSize && o.dw1.spec.dilation === dilation && !o.bn1.gamma && !o.bn2.gamma;
  if (!ops.every(compatible)) return undefined;
  const { groups } = input;
  const perEdge = pointwisePerEdge(ops.length, input.x.shape[3]);
  const pw1 = ops.map((o) => o.pw1.kernel as tf.Tensor4D);
  const pw2 = ops.map((o) => o.pw2.kernel as tf.Tensor4D);
  // dw1 with channel multiplier E: output channel c·E + e is edge e's depthwise output of channel c.
  const dw1 = stackKernels(ops.map((o) => o.dw1.kernel as tf.Tensor4D), 3);
  const depthwise: ConvolutionSpec = { dilation, depthwise: true };
  let h = convolve(input, input.relu(), dw1, depthwise);
  h = perEdge ? perEdgePointwise(input, channelToEdgeMajor(h, ops.length), pw1) : convolve(input, h, blockDiagonal(pw1, 'channel-major'), POINTWISE);
  h = tf.relu(batchNormalize(h, { groups, epsilon: first.bn1.epsilon }));
  const dw2 = stackKernels(ops.map((o) => o.dw2.kernel as tf.Tensor4D), 2);
  h = convolve(input, h, dw2, depthwise);
  h = perEdge ? perEdgePointwise(input, h, pw2) : convolve(input, h, blockDiagonal(pw2, 'edge-major'), POINTWISE);
  return { y: batchNormalize(h, { groups, epsilon: first.bn2.epsilon }), shared: false };
}

/** ReLU → atrous conv → BN for E edges: one conv C → E·C (all edges read the same input). */
export function stackDilConv(ops: readonly Op[], input: StackInput): StackOutput | undefined {
  if (!ops.every((o): o is DilConv => o instanceof DilConv)) return undefined;
  const first = ops[0]!;
  const { kernelSize, rate } = first.conv.spec;
  if (!ops.every((o) => o.conv.spec.stride === 1 && o.conv.spec.kernelSize === kernelSize && o.conv.spec.rate === rate && !o.bn.gamma)) {
    return undefined;
  }
  const kernel = stackKernels(ops.map((o) => o.conv.kernel as tf.Tensor4D), 3);
  // A direct dilated conv: @autodeeplab/core registers its gradient, and on wasm it is several times
  // faster than the space-to-batch form that AtrousConv2d uses.
  const h = convolve(input, input.relu(), kernel, { dilation: rate, heavy: true });
  return { y: batchNormalize(h, { groups: input.groups, epsilon: first.bn.epsilon }), shared: false };
}

/** Pooling (+ non-affine BN): parameter-free and identical for every edge, so computed once. */
export function stackPool(ops: readonly Op[], input: StackInput): StackOutput | undefined {
  if (!ops.every((o): o is Pool3x3 => o instanceof Pool3x3)) return undefined;
  const first = ops[0]!;
  if (!ops.every((o) => o.mode === first.mode && o.spec.stride === 1 && !!o.bn === !!first.bn && !o.bn?.gamma)) return undefined;
  const pooled = first.pool(input.x);
  return { y: first.bn ? batchNormalize(pooled, { groups: input.groups, epsilon: first.bn.epsilon }) : pooled, shared: true };
}

/** Identity at stride 1: the input itself, shared. */
export function stackIdentity(ops: readonly Op[], input: StackInput): StackOutput | undefined {
  return ops.every((o) => o instanceof Identity) ? { y: input.x, shared: true } : undefined;
}
