/**
 * Test support (not part of the public API): a tiny searchable model with the structure the loops
 * rely on (weights, α-like and β-like architecture parameters, BN statistics) and a small learnable
 * segmentation task.
 */
import * as tf from '@tensorflow/tfjs';
import { BatchNorm, Conv2d, Module, Rng } from '@autodeeplab/core';
import type { Sample } from '../memory-source.js';

/**
 * input → conv-BN-ReLU stem → two mixed edges (softmax(α) over identity / 3×3 conv / 3×3 average
 * pool) → softmax(β) mix of a full-resolution path and a half-resolution path → 1×1 logits.
 */
export class TinySearchModel extends Module {
  readonly alphaLogits: tf.Variable;
  readonly betaLogits: tf.Variable;
  readonly config: { numClasses: number };
  private readonly stem: Conv2d;
  private readonly stemBn: BatchNorm;
  private readonly edgeConvs: Conv2d[];
  private readonly lowConv: Conv2d;
  private readonly head: Conv2d;

  constructor(name: string, options: { channels?: number; numClasses?: number; seed?: number; inChannels?: number } = {}) {
    super(name);
    const c = options.channels ?? 6;
    const numClasses = options.numClasses ?? 3;
    this.config = { numClasses };
    const rng = new Rng(options.seed ?? 1);
    this.stem = this.addChild('stem', (n) => new Conv2d(n, { inChannels: options.inChannels ?? 3, outChannels: c, kernelSize: 3, rng }));
    this.stemBn = this.addChild('stem_bn', (n) => new BatchNorm(n, { channels: c }));
    this.edgeConvs = [0, 1].map((i) => this.addChild(`edge${i}`, (n) => new Conv2d(n, { inChannels: c, outChannels: c, kernelSize: 3, rng })));
    this.lowConv = this.addChild('low', (n) => new Conv2d(n, { inChannels: c, outChannels: c, kernelSize: 3, rng }));
    this.head = this.addChild('head', (n) => new Conv2d(n, { inChannels: c, outChannels: numClasses, kernelSize: 1, bias: true, rng }));
    this.alphaLogits = this.addParameter('alpha', () => tf.tensor(rng.normals(6, 1e-3), [2, 3]), 'arch');
    this.betaLogits = this.addParameter('beta', () => tf.tensor(rng.normals(2, 1e-3), [2]), 'arch');
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let h = tf.relu(this.stemBn.apply(this.stem.apply(x)));
      const alpha = tf.softmax(this.alphaLogits);
      for (let e = 0; e < 2; e++) {
        const w = tf.unstack(alpha.slice([e, 0], [1, 3]).reshape([3]));
        const candidates = [h, tf.relu(this.edgeConvs[e]!.apply(h)), tf.avgPool(h, 3, 1, 'same')];
        h = tf.addN(candidates.map((t, k) => tf.mul(t, w[k]!))) as tf.Tensor4D;
      }
      const beta = tf.unstack(tf.softmax(this.betaLogits));
      const [, height, width] = h.shape;
      const low = tf.image.resizeBilinear(tf.relu(this.lowConv.apply(tf.avgPool(h, 2, 2, 'same'))), [height, width], false, true);
      const mixed = tf.add(tf.mul(h, beta[0]!), tf.mul(low, beta[1]!)) as tf.Tensor4D;
      return this.head.apply(mixed);
    });
  }

  archParameters(): tf.Variable[] {
    return this.parameters('arch');
  }

  weightParameters(): tf.Variable[] {
    return this.parameters('weight');
  }
}

/**
 * Images whose pixel class is written in the colour: class k brightens channel k. Regions are
 * random rectangles, so both local colour and context help; noise keeps it from being trivial.
 */
export function colourSamples(count: number, options: { size?: number; numClasses?: number; seed?: number; ignoreFraction?: number } = {}): Sample[] {
  const size = options.size ?? 8;
  const numClasses = options.numClasses ?? 3;
  const rng = new Rng(options.seed ?? 7);
  const samples: Sample[] = [];
  for (let n = 0; n < count; n++) {
    const label = new Int32Array(size * size).fill(rng.int(numClasses));
    for (let r = 0; r < 2; r++) {
      const y0 = rng.int(size);
      const x0 = rng.int(size);
      const h = 1 + rng.int(size - y0);
      const w = 1 + rng.int(size - x0);
      const k = rng.int(numClasses);
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) label[y * size + x] = k;
    }
    const image = new Float32Array(size * size * 3);
    for (let p = 0; p < size * size; p++) {
      for (let ch = 0; ch < 3; ch++) image[p * 3 + ch] = (label[p] === ch ? 1 : 0) + 0.4 * rng.normal();
      if (options.ignoreFraction && rng.uniform() < options.ignoreFraction) label[p] = 255;
    }
    samples.push({ image, label, height: size, width: size, id: `s${n}` });
  }
  return samples;
}

/** Values of every state-dict tensor, to compare models or watch what an update changed. */
export function snapshot(model: Module, filter?: (path: string) => boolean): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [path, v] of model.stateDict()) if (!filter || filter(path)) out.set(path, v.dataSync() as Float32Array);
  return out;
}

export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
