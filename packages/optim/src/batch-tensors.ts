import * as tf from '@tensorflow/tfjs';
import { UserInputError } from '@autodeeplab/core';
import type { Batch } from './types.js';

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
