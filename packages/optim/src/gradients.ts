import * as tf from '@tensorflow/tfjs';
import { UserInputError } from '@autodeeplab/core';
import type { BatchTensors } from './batch-tensors.js';
import { softmaxCrossEntropy } from './loss.js';
import type { TrainableModel } from './types.js';

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
 * (`GradientWorkerPool`), whose norm is taken once their gradients are combined (the norm is one
 * reduction per parameter, a cost worth paying once per step, not once per part).
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
