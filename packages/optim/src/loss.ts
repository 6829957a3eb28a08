import * as tf from '@tensorflow/tfjs';
import { resizeBilinear } from '@autodeeplab/core';

export const IGNORE_LABEL = 255;

/**
 * Pixel-wise softmax cross-entropy, mean over the pixels whose label is not `ignoreLabel`.
 * `logits` [N, H, W, C]; `labels` int32 [N, H, W] (other sizes than the logits' are met by resizing
 * the logits bilinearly). When every pixel is ignored the loss is 0 with zero gradient, not NaN.
 */
export function softmaxCrossEntropy(logits: tf.Tensor4D, labels: tf.Tensor3D, ignoreLabel = IGNORE_LABEL): tf.Scalar {
  return tf.tidy(() => {
    const [, height, width] = labels.shape;
    const numClasses = logits.shape[3];
    const resized = resizeBilinear(logits, height, width);
    const valid = tf.notEqual(labels, ignoreLabel);
    const safeLabels = tf.where(valid, labels, tf.zerosLike(labels));
    const oneHot = tf.oneHot(tf.cast(safeLabels, 'int32'), numClasses);
    const logProbabilities = tf.logSoftmax(resized);
    const perPixel = tf.neg(tf.sum(tf.mul(oneHot, logProbabilities), -1));
    const mask = tf.cast(valid, 'float32');
    const count = tf.maximum(tf.sum(mask), 1);
    return tf.div(tf.sum(tf.mul(perPixel, mask)), count) as tf.Scalar;
  });
}
