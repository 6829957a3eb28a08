import * as tf from '@tensorflow/tfjs';
import { UserInputError } from '@autodeeplab/core';
import { ConfusionMatrix, type SegmentationMetrics } from './confusion.js';
import { IGNORE_LABEL } from './loss.js';
import { batchToTensors, disposeBatch } from './loop-support.js';
import type { BatchSource, SegmentationModel } from './types.js';

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
      for (const logits of variants) {
        const resized = logits.shape[1] === height && logits.shape[2] === width ? logits : tf.image.resizeBilinear(logits, [height, width], false, true);
        outputs.push(tf.softmax(resized));
      }
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
  const confusion = new ConfusionMatrix(numClasses, ignoreLabel);
  const wasTraining = model.training ?? true;
  model.eval();
  let images = 0;
  let batches = 0;
  try {
    for await (const raw of data.epoch(0, 0)) {
      const batch = batchToTensors(raw, ignoreLabel);
      try {
        const prediction = tf.tidy(() => tf.argMax(predictProbabilities(model, batch.images, scales, options.flip ?? false), -1));
        const predicted = await prediction.data();
        prediction.dispose();
        confusion.update(predicted, raw.labels);
      } finally {
        disposeBatch(batch);
      }
      images += raw.batchSize;
      batches++;
      options.onBatch?.({ images, batches, total: data.batchesPerEpoch });
    }
  } finally {
    model.train(wasTraining);
  }
  return { ...confusion.metrics(), confusion, images };
}
