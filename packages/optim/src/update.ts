import * as tf from '@tensorflow/tfjs';
import { batchToTensors, disposeBatch } from './batch-tensors.js';
import { computeGradients, disposeGradients, type GradientResult } from './gradients.js';
import type { Optimizer } from './optimizers.js';
import type { Batch, TrainableModel } from './types.js';

/** Thrown when a loss or gradient is NaN or infinite; names the step. */
export class NonFiniteLossError extends Error {
  override readonly name = 'NonFiniteLossError';
  constructor(
    readonly step: number,
    readonly epoch: number,
    readonly what: string,
    value: number,
  ) {
    super(
      `${what} is ${value} at step ${step} (epoch ${epoch}); stopping. ` +
        'The last good checkpoint is kept. Check the data (then resume), or start the run again with a lower learning rate: ' +
        'a resumed run keeps its settings, so that it continues exactly.',
    );
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

async function gradientsOf(model: TrainableModel, variables: ReadonlyMap<string, tf.Variable>, raw: Batch, options: UpdateOptions): Promise<GradientResult> {
  if (options.compute) return options.compute(variables, raw, options.ignoreLabel);
  const batch = batchToTensors(raw, options.ignoreLabel);
  try {
    return await computeGradients(model, variables, batch, options.ignoreLabel);
  } finally {
    disposeBatch(batch);
  }
}

function clipInPlace(gradients: Map<string, tf.Tensor>, norm: number, clipNorm: number): void {
  const factor = clipNorm / norm;
  for (const [name, g] of gradients) {
    gradients.set(
      name,
      tf.tidy(() => tf.mul(g, factor)),
    );
    g.dispose();
  }
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
  const result = await gradientsOf(model, variables, raw, options);
  try {
    if (!Number.isFinite(result.loss)) throw new NonFiniteLossError(options.step, options.epoch, `the ${options.what} loss`, result.loss);
    if (!Number.isFinite(result.gradNorm)) {
      throw new NonFiniteLossError(options.step, options.epoch, `the ${options.what} gradient norm`, result.gradNorm);
    }
    if (options.clipNorm !== undefined && result.gradNorm > options.clipNorm) clipInPlace(result.gradients, result.gradNorm, options.clipNorm);
    optimizer.step(result.gradients, options.learningRate);
  } finally {
    disposeGradients(result.gradients);
  }
  return { loss: result.loss, gradNorm: result.gradNorm, images: raw.batchSize };
}
