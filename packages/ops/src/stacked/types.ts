import type * as tf from '@tensorflow/tfjs';
import type { Op } from '../registry.js';

/** The input shared by the stacked ops: a tensor, its ReLU (computed once on demand) and batch groups. */
export interface StackInput {
  /** [groups·N, H, W, C]. */
  x: tf.Tensor4D;
  /** ReLU(x), computed at most once by the caller and shared by every op that starts with it. */
  relu: () => tf.Tensor4D;
  /**
   * The batch stacks `groups` independent inputs (N images each); every BN keeps their statistics
   * apart, so the result equals running the ops on each group separately.
   */
  groups: number;
  /**
   * When present, the stacked form runs its convolutions through it instead of computing them
   * itself (`convolution(x, filter, spec)`, the same result): a recompute-in-backward wrapper keeps
   * their outputs from the forward pass and replays them when it recomputes the forward.
   */
  convolve?: (x: tf.Tensor4D, filter: tf.Tensor4D, spec: ConvolutionSpec) => tf.Tensor4D;
}

/** A stride-1, 'same'-padded convolution a stacked op runs through `StackInput.convolve`. */
export interface ConvolutionSpec {
  dilation: number;
  /** `tf.depthwiseConv2d` (else `tf.conv2d`). */
  depthwise?: boolean;
  /**
   * Many multiply-adds per output value (a full k×k conv: k²·C): a replay keeps its output whatever
   * its budget, which goes to the light ones (depthwise, 1×1).
   */
  heavy?: boolean;
}

/**
 * Result of a stacked op over E edges: `shared` — one [M, H, W, C] tensor that is every edge's output
 * (parameter-free ops such as pooling + non-affine BN, identity); otherwise [M, H, W, E·C], edge e's
 * output in channels e·C … (e+1)·C − 1.
 */
export interface StackOutput {
  y: tf.Tensor4D;
  shared: boolean;
}

/**
 * Computes `ops` (instances of one registered op, stride 1, same channels) on one shared input;
 * `undefined` when it cannot handle these instances (then `applyStacked` runs each op on its own).
 */
export type StackedApply = (ops: readonly Op[], input: StackInput) => StackOutput | undefined;

/** The stacked form of a registered op. */
export interface StackedForm {
  apply: StackedApply;
  /**
   * Elements the form routes through `StackInput.convolve` per element of its output (kept from the
   * forward pass until the backward when a recomputation replays them), by how they are kept:
   * `heavy` convolutions always, the others within the replay budget (see `ConvolutionSpec`). For
   * memory estimates. Default none.
   */
  replayedOutputs?: { heavy?: number; light?: number };
}
