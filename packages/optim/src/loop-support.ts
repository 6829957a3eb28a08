import * as tf from '@tensorflow/tfjs';
import { UserInputError } from '@autodeeplab/core';
import { ConfusionMatrix, type SegmentationMetrics } from './confusion.js';
import { softmaxCrossEntropy } from './loss.js';
import type { Optimizer } from './optimizers.js';
import type { Batch, BatchSource, SegmentationModel, TrainableModel } from './types.js';

/** A batch as tensors, with the largest non-ignored label for checking against the class count. */
export interface BatchTensors {
  images: tf.Tensor4D;
  labels: tf.Tensor3D;
  maxLabel: number;
  batchSize: number;
}

function describeBatch(batch: Batch): string {
  return batch.ids && batch.ids.length > 0 ? `batch [${batch.ids.slice(0, 4).join(', ')}${batch.ids.length > 4 ? ', …' : ''}]` : 'batch';
}

/** Checks a batch's array sizes and labels and makes tensors of it. */
export function batchToTensors(batch: Batch, ignoreLabel: number): BatchTensors {
  const { batchSize: n, height: h, width: w } = batch;
  const pixels = n * h * w;
  if (!(pixels > 0)) throw new UserInputError(`${describeBatch(batch)}: empty batch (${n}×${h}×${w})`);
  if (batch.labels.length !== pixels) {
    throw new UserInputError(`${describeBatch(batch)}: labels hold ${batch.labels.length} values, expected ${n}×${h}×${w} = ${pixels}`);
  }
  const channels = batch.images.length / pixels;
  if (!Number.isInteger(channels) || channels < 1) {
    throw new UserInputError(`${describeBatch(batch)}: images hold ${batch.images.length} values, not a multiple of ${n}×${h}×${w}`);
  }
  let maxLabel = -1;
  for (let i = 0; i < pixels; i++) {
    const label = batch.labels[i]!;
    if (label === ignoreLabel) continue;
    if (label < 0) throw new UserInputError(`${describeBatch(batch)}: negative label ${label}`);
    if (label > maxLabel) maxLabel = label;
  }
  return {
    images: tf.tensor4d(batch.images, [n, h, w, channels]),
    labels: tf.tensor3d(batch.labels, [n, h, w], 'int32'),
    maxLabel,
    batchSize: n,
  };
}

export function disposeBatch(batch: BatchTensors): void {
  batch.images.dispose();
  batch.labels.dispose();
}

/** `model.config.numClasses` when the model has one (supernets and networks do). */
export function modelNumClasses(model: unknown): number | undefined {
  const n = (model as { config?: { numClasses?: unknown } }).config?.numClasses;
  return typeof n === 'number' ? n : undefined;
}

/** Parameters by their path in the model's state dict (optimiser and checkpoint names). */
export function nameVariables(model: TrainableModel, variables: readonly tf.Variable[], what: string): Map<string, tf.Variable> {
  const pathOf = new Map<tf.Variable, string>();
  for (const [path, v] of model.stateDict()) pathOf.set(v, path);
  const named = new Map<string, tf.Variable>();
  for (const v of variables) {
    const path = pathOf.get(v);
    if (path === undefined) throw new Error(`${what}: parameter '${v.name}' is not in the model's state dict`);
    named.set(path, v);
  }
  return named;
}

export interface LossAndGradients {
  loss: number;
  /** Gradients by parameter path; the caller disposes them (disposeGradients). */
  gradients: Map<string, tf.Tensor>;
}

export interface GradientResult extends LossAndGradients {
  gradNorm: number;
}

/**
 * Forward, loss and gradients with respect to `variables` only (the model stays in its mode; BN
 * statistics update in train mode as in a normal forward). Reads loss and gradient norm back, so the
 * caller can refuse a non-finite update before applying it.
 */
export async function computeGradients(
  model: TrainableModel,
  variables: ReadonlyMap<string, tf.Variable>,
  batch: BatchTensors,
  ignoreLabel: number,
): Promise<GradientResult> {
  const result = await computeLossAndGradients(model, variables, batch, ignoreLabel);
  const norm = tf.tidy(() => {
    const squares = [...result.gradients.values()].map((g) => tf.sum(tf.square(g)));
    return squares.length > 0 ? tf.sqrt(tf.addN(squares)) : tf.scalar(0);
  });
  const gradNorm = (await norm.data())[0]!;
  norm.dispose();
  return { ...result, gradNorm };
}

/**
 * `computeGradients` without the norm: for the parts of a batch split over backend instances
 * (`GradientWorkerPool`), whose norm is taken once their gradients are combined (on the paper's
 * supernet the norm of a part is ~18,000 kernels, 0.15–0.2 s on wasm).
 */
export async function computeLossAndGradients(
  model: TrainableModel,
  variables: ReadonlyMap<string, tf.Variable>,
  batch: BatchTensors,
  ignoreLabel: number,
): Promise<LossAndGradients> {
  const list = [...variables.values()];
  const pathOfName = new Map<string, string>();
  for (const [path, v] of variables) pathOfName.set(v.name, path);
  let numClasses = 0;
  const { value, grads } = tf.variableGrads(() => {
    const logits = model.forward(batch.images, { gradientTargets: list });
    numClasses = logits.shape[3];
    return softmaxCrossEntropy(logits, batch.labels, ignoreLabel);
  }, list);
  const gradients = new Map<string, tf.Tensor>();
  for (const [name, g] of Object.entries(grads)) gradients.set(pathOfName.get(name) ?? name, g);
  const loss = (await value.data())[0]!;
  value.dispose();
  if (batch.maxLabel >= numClasses) {
    disposeGradients(gradients);
    throw new UserInputError(`label ${batch.maxLabel} found in the data, but the model predicts ${numClasses} classes (0..${numClasses - 1}, 255 = ignore)`);
  }
  return { loss, gradients };
}

export function disposeGradients(gradients: Map<string, tf.Tensor>): void {
  for (const g of gradients.values()) g.dispose();
  gradients.clear();
}

/** Thrown when a loss or gradient is NaN or infinite; names the step. */
export class NonFiniteLossError extends Error {
  override readonly name = 'NonFiniteLossError';
  constructor(
    readonly step: number,
    readonly epoch: number,
    readonly what: string,
    value: number,
  ) {
    super(`${what} is ${value} at step ${step} (epoch ${epoch}); stopping. The last good checkpoint is kept; lower the learning rate or check the data, then resume.`);
  }
}

export interface ValidationResult extends SegmentationMetrics {
  loss: number;
}

/**
 * Runs the model in eval mode over one pass of `source` (epoch 0 order) and returns the confusion
 * metrics and mean loss. Restores the previous mode afterwards.
 */
export async function validate(
  model: SegmentationModel,
  source: BatchSource,
  options: { numClasses: number; ignoreLabel: number; predict?: (model: SegmentationModel, images: tf.Tensor4D, height: number, width: number) => tf.Tensor4D },
): Promise<ValidationResult> {
  const wasTraining = model.training ?? true;
  model.eval();
  const matrix = new ConfusionMatrix(options.numClasses, options.ignoreLabel);
  let lossSum = 0;
  let batches = 0;
  try {
    for await (const raw of source.epoch(0, 0)) {
      const batch = batchToTensors(raw, options.ignoreLabel);
      try {
        const { prediction, loss } = tf.tidy(() => {
          const logits = options.predict
            ? options.predict(model, batch.images, raw.height, raw.width)
            : model.forward(batch.images);
          return { prediction: tf.argMax(resizeTo(logits, raw.height, raw.width), -1), loss: softmaxCrossEntropy(logits, batch.labels, options.ignoreLabel) };
        });
        const [predicted, lossValue] = await Promise.all([prediction.data(), loss.data()]);
        prediction.dispose();
        loss.dispose();
        matrix.update(predicted, raw.labels);
        lossSum += lossValue[0]!;
        batches++;
      } finally {
        disposeBatch(batch);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return { ...matrix.metrics(), loss: batches > 0 ? lossSum / batches : 0 };
}

function resizeTo(x: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  return x.shape[1] === height && x.shape[2] === width ? x : tf.image.resizeBilinear(x, [height, width], false, true);
}

/** Smoothed seconds per step, for throughput and ETA. */
export class StepTimer {
  private smoothed: number | undefined;
  private last = performance.now();

  /** Call after each step; returns the smoothed seconds per step. */
  tick(): number {
    const t = performance.now();
    const seconds = (t - this.last) / 1000;
    this.last = t;
    this.smoothed = this.smoothed === undefined ? seconds : 0.9 * this.smoothed + 0.1 * seconds;
    return this.smoothed;
  }

  /** Excludes time spent elsewhere (validation, checkpoints) from the next step's measurement. */
  restart(): void {
    this.last = performance.now();
  }
}

/** A batch reader over one epoch of a source that fails clearly when the source ends early. */
export class EpochReader {
  private iterator: AsyncIterator<Batch> | undefined;

  constructor(
    private readonly source: BatchSource,
    private readonly what: string,
  ) {}

  open(epoch: number, start: number): void {
    this.iterator = this.source.epoch(epoch, start)[Symbol.asyncIterator]();
  }

  async next(position: { epoch: number; index: number }): Promise<Batch> {
    if (!this.iterator) throw new Error(`${this.what}: read before open`);
    const result = await this.iterator.next();
    if (result.done) {
      throw new UserInputError(
        `${this.what} ended after batch ${position.index} of epoch ${position.epoch}, but it reports ${this.source.batchesPerEpoch} batches per epoch`,
      );
    }
    return result.value;
  }

  async close(): Promise<void> {
    const iterator = this.iterator;
    this.iterator = undefined;
    await iterator?.return?.();
  }
}

export interface UpdateOptions {
  ignoreLabel: number;
  learningRate: number;
  /** Rescale the gradient to this global norm when it is larger (off when undefined). */
  clipNorm?: number;
  /** For messages: 'weight' or 'architecture'. */
  what: string;
  /** 1-based number of the update being made, for messages. */
  step: number;
  epoch: number;
  /** Computes loss and gradients instead of `computeGradients` on this thread (e.g. a GradientWorkerPool). */
  compute?: (variables: ReadonlyMap<string, tf.Variable>, raw: Batch, ignoreLabel: number) => Promise<GradientResult>;
}

/**
 * One optimiser update of `variables` on `raw`: gradients, a finiteness check that stops before
 * anything is changed, optional clipping, the step.
 */
export async function updateOn(
  model: TrainableModel,
  variables: ReadonlyMap<string, tf.Variable>,
  optimizer: Optimizer,
  raw: Batch,
  options: UpdateOptions,
): Promise<{ loss: number; gradNorm: number; images: number }> {
  let result: GradientResult;
  if (options.compute) {
    result = await options.compute(variables, raw, options.ignoreLabel);
  } else {
    const batch = batchToTensors(raw, options.ignoreLabel);
    try {
      result = await computeGradients(model, variables, batch, options.ignoreLabel);
    } finally {
      disposeBatch(batch);
    }
  }
  try {
    if (!Number.isFinite(result.loss)) throw new NonFiniteLossError(options.step, options.epoch, `the ${options.what} loss`, result.loss);
    if (!Number.isFinite(result.gradNorm)) {
      throw new NonFiniteLossError(options.step, options.epoch, `the ${options.what} gradient norm`, result.gradNorm);
    }
    const { clipNorm } = options;
    if (clipNorm !== undefined && result.gradNorm > clipNorm) {
      const factor = clipNorm / result.gradNorm;
      for (const [name, g] of result.gradients) {
        result.gradients.set(name, tf.tidy(() => tf.mul(g, factor)));
        g.dispose();
      }
    }
    optimizer.step(result.gradients, options.learningRate);
  } finally {
    disposeGradients(result.gradients);
  }
  return { loss: result.loss, gradNorm: result.gradNorm, images: raw.batchSize };
}
