import type * as tf from '@tensorflow/tfjs';
import type { ModelDescriptor } from './parallel/protocol.js';

/**
 * One batch as plain arrays (the shape `@autodeeplab/datasets` produces): images NHWC float32,
 * already normalised; labels NHW int32 with 255 = ignore.
 */
export interface Batch {
  images: Float32Array;
  labels: Int32Array;
  batchSize: number;
  height: number;
  width: number;
  ids?: readonly string[];
}

/**
 * A source of batches whose order is a pure function of the epoch, so that a run can resume at
 * (epoch, index) and see exactly the batches it would have seen.
 */
export interface BatchSource {
  /** Number of batches in one epoch. */
  readonly batchesPerEpoch: number;
  /** The batches of `epoch` in that epoch's order, starting at batch index `start` (default 0). */
  epoch(epoch: number, start?: number): AsyncIterable<Batch>;
}

/** Options the loops pass to `forward`; a model may ignore them. */
export interface TrainingForwardOptions {
  /**
   * The variables the caller differentiates in this forward (the list given to `tf.variableGrads`):
   * a model that recomputes parts of its forward in the backward pass (gradient checkpoints) can
   * skip the gradients of every other variable there.
   */
  gradientTargets?: readonly tf.Variable[];
}

/** What the training loop needs of a network (a `Module` from `@autodeeplab/core` fits). */
export interface TrainableModel {
  forward(x: tf.Tensor4D, options?: TrainingForwardOptions): tf.Tensor4D;
  /** Every trainable parameter. */
  parameters(): tf.Variable[];
  /** Parameters, architecture parameters and buffers (BN statistics) by path. */
  stateDict(): Map<string, tf.Variable>;
  loadStateDict(state: ReadonlyMap<string, tf.Tensor>, options?: { strict?: boolean; source?: string }): void;
  train(mode?: boolean): unknown;
  eval(): unknown;
  /**
   * How a worker thread rebuilds this model (`config.workers` > 1): plain, structured-cloneable
   * data; the weights need not match, the main copy's are sent. Without it the loops need the
   * `replica` option.
   */
  replica?(): ModelDescriptor;
  /**
   * Training progress in [0, 1] before each step, for what is scheduled over training (the discrete
   * network's drop-path); `seed` (the step) makes the step's randomness replay on resume.
   */
  setDropPathProgress?(progress: number, seed?: number): void;
}

/** What the search loop needs of a supernet (`Supernet` of `@autodeeplab/search-space` fits). */
export interface SearchableModel extends TrainableModel {
  /** α and β. */
  archParameters(): tf.Variable[];
  /** Every other trainable parameter. */
  weightParameters(): tf.Variable[];
}

/** Anything that maps an image batch to logits (for evaluation). */
export interface SegmentationModel {
  forward(x: tf.Tensor4D): tf.Tensor4D;
  eval(): unknown;
  train(mode?: boolean): unknown;
  readonly training?: boolean;
}
