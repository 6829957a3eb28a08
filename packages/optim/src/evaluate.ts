/**
 * Evaluation of a segmentation model over one pass of a batch source: `evaluate` (multi-scale and
 * flipped inputs, the final figures) and `validate` (the plain forward with its loss, as the loops
 * report it each epoch) share the pass and the confusion matrix; they differ only in how a batch is
 * predicted.
 */
import * as tf from '@tensorflow/tfjs';
import { UserInputError } from '@autodeeplab/core';
import { batchToTensors, disposeBatch } from './batch-tensors.js';
import { ConfusionMatrix, type SegmentationMetrics } from './confusion.js';
import { IGNORE_LABEL, softmaxCrossEntropy } from './loss.js';
import type { Batch, BatchSource, SegmentationModel } from './types.js';

export interface EvaluateOptions {
  model: SegmentationModel;
  data: BatchSource;
  numClasses: number;
  ignoreLabel?: number;
  /** Input scales whose softmax outputs are averaged (default [1]: single scale). */
  scales?: readonly number[];
  /** Also average the horizontally flipped input's prediction. */
  flip?: boolean;
  /** Called after each batch with the number of images done so far. */
  onBatch?: (progress: { images: number; batches: number; total: number }) => void;
}

export interface EvaluationResult extends SegmentationMetrics {
  confusion: ConfusionMatrix;
  images: number;
}

export interface ValidationResult extends SegmentationMetrics {
  loss: number;
}

export interface ValidateOptions {
  numClasses: number;
  ignoreLabel: number;
  /** Logits of a batch instead of `model.forward(images)`. */
  predict?: (model: SegmentationModel, images: tf.Tensor4D, height: number, width: number) => tf.Tensor4D;
}

/** One batch's class predictions [N, H, W] at the label size and, for validation, its loss. */
type PredictBatch = (images: tf.Tensor4D, labels: tf.Tensor3D, raw: Batch) => { prediction: tf.Tensor; loss?: tf.Scalar };

interface PassResult {
  confusion: ConfusionMatrix;
  images: number;
  batches: number;
  lossSum: number;
}

/** Runs `model` in eval mode over epoch 0 of `data`, filling a confusion matrix; restores the mode afterwards. */
async function evaluationPass(
  model: SegmentationModel,
  data: BatchSource,
  options: { numClasses: number; ignoreLabel: number; predict: PredictBatch; onBatch?: EvaluateOptions['onBatch'] },
): Promise<PassResult> {
  const confusion = new ConfusionMatrix(options.numClasses, options.ignoreLabel);
  const wasTraining = model.training ?? true;
  model.eval();
  const pass = { confusion, images: 0, batches: 0, lossSum: 0 };
  try {
    for await (const raw of data.epoch(0, 0)) {
      const batch = batchToTensors(raw, options.ignoreLabel);
      try {
        const { prediction, loss } = tf.tidy(() => options.predict(batch.images, batch.labels, raw));
        const [predicted, lossValue] = await Promise.all([prediction.data(), loss?.data()]);
        prediction.dispose();
        loss?.dispose();
        confusion.update(predicted, raw.labels);
        if (lossValue) pass.lossSum += lossValue[0]!;
      } finally {
        disposeBatch(batch);
      }
      pass.images += raw.batchSize;
      pass.batches++;
      options.onBatch?.({ images: pass.images, batches: pass.batches, total: data.batchesPerEpoch });
    }
  } finally {
    model.train(wasTraining);
  }
  return pass;
}

function resizeTo(x: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  return x.shape[1] === height && x.shape[2] === width ? x : tf.image.resizeBilinear(x, [height, width], false, true);
}

/**
 * Class probabilities at the input size, averaged over `scales` and (optionally) horizontal flips.
 * With one scale and no flip this is the softmax of the plain forward pass.
 */
export function predictProbabilities(model: SegmentationModel, images: tf.Tensor4D, scales: readonly number[] = [1], flip = false): tf.Tensor4D {
  return tf.tidy(() => {
    const [, height, width] = images.shape;
    const outputs: tf.Tensor4D[] = [];
    for (const scale of scales) {
      const h = Math.max(1, Math.round(height * scale));
      const w = Math.max(1, Math.round(width * scale));
      const input = h === height && w === width ? images : tf.image.resizeBilinear(images, [h, w], false, true);
      const variants: tf.Tensor4D[] = [model.forward(input)];
      if (flip) variants.push(tf.reverse(model.forward(tf.reverse(input, 2)), 2));
      for (const logits of variants) outputs.push(tf.softmax(resizeTo(logits, height, width)));
    }
    return tf.div(tf.addN(outputs), outputs.length);
  });
}

/** Confusion-matrix mIoU, pixel accuracy and per-class IoU of `model` on one pass over `data`. */
export async function evaluate(options: EvaluateOptions): Promise<EvaluationResult> {
  const { model, data, numClasses } = options;
  const ignoreLabel = options.ignoreLabel ?? IGNORE_LABEL;
  const scales = options.scales ?? [1];
  if (scales.length === 0 || scales.some((s) => !(s > 0))) throw new UserInputError(`evaluate: scales must be positive numbers, found [${scales.join(', ')}]`);
  const flip = options.flip ?? false;
  const { confusion, images } = await evaluationPass(model, data, {
    numClasses,
    ignoreLabel,
    onBatch: options.onBatch,
    predict: (batchImages) => ({ prediction: tf.argMax(predictProbabilities(model, batchImages, scales, flip), -1) }),
  });
  return { ...confusion.metrics(), confusion, images };
}

/**
 * The loops' per-epoch validation: the plain forward over one pass of `source` (epoch 0 order),
 * with the confusion metrics and the mean loss.
 */
export async function validate(model: SegmentationModel, source: BatchSource, options: ValidateOptions): Promise<ValidationResult> {
  const { ignoreLabel, predict } = options;
  const { confusion, batches, lossSum } = await evaluationPass(model, source, {
    numClasses: options.numClasses,
    ignoreLabel,
    predict: (images, labels, raw) => {
      const logits = predict ? predict(model, images, raw.height, raw.width) : model.forward(images);
      return { prediction: tf.argMax(resizeTo(logits, raw.height, raw.width), -1), loss: softmaxCrossEntropy(logits, labels, ignoreLabel) };
    },
  });
  return { ...confusion.metrics(), loss: batches > 0 ? lossSum / batches : 0 };
}
