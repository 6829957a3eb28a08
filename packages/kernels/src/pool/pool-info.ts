import * as tf from '@tensorflow/tfjs';

/** The attributes of tfjs' pooling gradient kernels. */
export interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The pool's geometry by tfjs' own rules. */
export function poolInfo(inputShape: readonly number[], attrs: PoolAttrs): tf.backend_util.Conv2DInfo {
  const shape = inputShape as [number, number, number, number];
  return tf.backend_util.computePool2DInfo(shape, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
}
