import * as tf from '@tensorflow/tfjs';
import { BatchNorm, Conv2d, Module, type Rng } from '@autodeeplab/core';

/**
 * The stem of the final network (official `_nas_stem`): three 3×3 convs with strides 2, 1, 2 and BN
 * after each, ReLU between. Returns the conv1 output (s = 2) and the conv2 output (s = 4): they are
 * H^{l−2} and H^{l−1} of the first cell.
 */
export class Stem extends Module {
  readonly convs: Conv2d[];
  readonly bns: BatchNorm[];

  constructor(name: string, spec: { inChannels: number; filters: readonly [number, number, number]; rng: Rng }) {
    super(name);
    const strides = [2, 1, 2];
    let channels = spec.inChannels;
    this.convs = [];
    this.bns = [];
    spec.filters.forEach((filters, i) => {
      const inChannels = channels;
      this.convs.push(this.addChild(`conv${i}`, (n) => new Conv2d(n, { inChannels, outChannels: filters, kernelSize: 3, stride: strides[i]!, rng: spec.rng })));
      this.bns.push(this.addChild(`bn${i}`, (n) => new BatchNorm(n, { channels: filters })));
      channels = filters;
    });
  }

  /** [s2 feature (after conv1's BN), s4 feature (after conv2's BN)]. */
  apply(x: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
    const [c0, c1, c2] = this.convs as [Conv2d, Conv2d, Conv2d];
    const [b0, b1, b2] = this.bns as [BatchNorm, BatchNorm, BatchNorm];
    const h0 = tf.relu(b0.apply(c0.apply(x)));
    const s2 = b1.apply(c1.apply(h0));
    const s4 = b2.apply(c2.apply(tf.relu(s2)));
    return [s2, s4];
  }
}
