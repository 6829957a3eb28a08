import type { Batch } from '../types.js';

/**
 * Splits a batch into at most `parts` contiguous parts of whole images, sizes differing by at most
 * one (the first parts are the larger). Fewer parts when the batch has fewer images. Copies.
 */
export function splitBatch(batch: Batch, parts: number): Batch[] {
  const n = batch.batchSize;
  const count = Math.max(1, Math.min(parts, n));
  const imageValues = batch.images.length / n;
  const labelValues = batch.height * batch.width;
  const out: Batch[] = [];
  let start = 0;
  for (let k = 0; k < count; k++) {
    const size = Math.floor(n / count) + (k < n % count ? 1 : 0);
    out.push({
      images: batch.images.slice(start * imageValues, (start + size) * imageValues),
      labels: batch.labels.slice(start * labelValues, (start + size) * labelValues),
      batchSize: size,
      height: batch.height,
      width: batch.width,
      ...(batch.ids ? { ids: batch.ids.slice(start, start + size) } : {}),
    });
    start += size;
  }
  return out;
}

/** Pixels whose label is not `ignoreLabel`: a part's weight in the batch's mean loss. */
export function countLabelled(labels: Int32Array, ignoreLabel: number): number {
  let count = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== ignoreLabel) count++;
  return count;
}
