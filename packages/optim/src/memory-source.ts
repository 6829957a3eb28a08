import { Rng } from '@autodeeplab/core';
import type { Batch, BatchSource } from './types.js';

/** One image/label pair held in memory. */
export interface Sample {
  /** HWC float32 (already normalised). */
  image: Float32Array;
  /** HW int32, 255 = ignore. */
  label: Int32Array;
  height: number;
  width: number;
  id?: string;
}

export interface MemorySourceOptions {
  batchSize: number;
  /** Shuffle each epoch with a permutation seeded by (seed, epoch); false keeps the given order. */
  shuffle?: boolean;
  seed?: number;
  /** Drop the last incomplete batch (default true: training wants equal batches). */
  dropLast?: boolean;
}

/**
 * A BatchSource over samples in memory: the order of an epoch depends only on (seed, epoch), so
 * a resumed run reads the same batches. For tests, small experiments and custom data.
 */
export function memoryBatchSource(samples: readonly Sample[], options: MemorySourceOptions): BatchSource {
  const { batchSize, shuffle = true, seed = 0, dropLast = true } = options;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`batchSize must be a positive integer, found ${batchSize}`);
  const first = samples[0];
  for (const s of samples) {
    if (s.height !== first!.height || s.width !== first!.width) throw new Error('memoryBatchSource: all samples must have the same size');
  }
  const batchesPerEpoch = dropLast ? Math.floor(samples.length / batchSize) : Math.ceil(samples.length / batchSize);
  const order = (epoch: number) =>
    shuffle ? new Rng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0).permutation(samples.length) : samples.map((_, i) => i);
  return {
    batchesPerEpoch,
    async *epoch(epoch: number, start = 0): AsyncGenerator<Batch> {
      const indices = order(epoch);
      for (let b = start; b < batchesPerEpoch; b++) {
        const chosen = indices.slice(b * batchSize, (b + 1) * batchSize).map((i) => samples[i]!);
        const { height, width } = chosen[0]!;
        const channels = chosen[0]!.image.length / (height * width);
        const images = new Float32Array(chosen.length * height * width * channels);
        const labels = new Int32Array(chosen.length * height * width);
        chosen.forEach((s, i) => {
          images.set(s.image, i * height * width * channels);
          labels.set(s.label, i * height * width);
        });
        yield { images, labels, batchSize: chosen.length, height, width, ids: chosen.map((s, i) => s.id ?? String(b * batchSize + i)) };
      }
    },
  };
}
