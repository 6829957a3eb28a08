/**
 * The prefetching batcher: keeps up to `prefetch` batches of samples decoding (sharp, on libuv's thread
 * pool) and augmenting while the consumer runs its step. The epoch order depends only on (seed, epoch)
 * and each sample's augmentation only on (seed, epoch, sample index), so any epoch can be replayed or
 * resumed at a position with identical batches.
 */
import { Rng, UserInputError } from '@autodeeplab/core';
import { CorruptImageError } from './decode.js';
import { mixSeed } from './seed.js';
import { planTransform, resample, sourceRegion, TransformSchema, type TransformConfig, type TransformedSample } from './transforms.js';
import type { Dataset } from './types.js';

export interface Batch {
  /** NHWC float32, normalised. */
  images: Float32Array;
  /** NHW class ids, 255 = ignore. */
  labels: Int32Array;
  batchSize: number;
  height: number;
  width: number;
  ids: string[];
  /** Dataset indices of the samples. */
  indices: number[];
  /** Position in the epoch order of this batch's first sample, and of the next batch's (resume from it). */
  position: number;
  nextPosition: number;
}

export type BatchEvent = { type: 'corrupt-skipped'; index: number; id: string; file: string; message: string };

export interface BatchOptions {
  /** Dataset indices to draw from (e.g. searchSplit().trainA); default all. */
  indices?: readonly number[];
  batchSize: number;
  transforms?: TransformConfig;
  seed: number;
  epoch?: number;
  /** Position in the epoch order to start at (exact resume). */
  start?: number;
  /** Batches decoded ahead (default 2). */
  prefetch?: number;
  /** Shuffle the epoch order (default true). */
  shuffle?: boolean;
  /** Drop a final partial batch (default false). */
  dropLast?: boolean;
  /** Skip (and count) images that fail to decode instead of throwing. */
  skipCorrupt?: boolean;
  onEvent?: (event: BatchEvent) => void;
}

type Loaded = { ok: true; index: number; id: string; sample: TransformedSample } | { ok: false; index: number; error: unknown };

export class BatchStream implements AsyncIterable<Batch> {
  /** The epoch order used: dataset indices, position by position. */
  readonly order: readonly number[];
  readonly start: number;
  readonly batchSize: number;
  /** Samples skipped as corrupt so far (with skipCorrupt). */
  readonly skipped: { index: number; id: string; file: string; message: string }[] = [];
  private readonly transform;
  private readonly options: BatchOptions;

  constructor(
    private readonly dataset: Dataset,
    options: BatchOptions,
  ) {
    this.options = options;
    const { batchSize, seed } = options;
    const epoch = options.epoch ?? 0;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserInputError(`batches: batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(seed)) throw new UserInputError(`batches: seed must be an integer, got ${seed}`);
    if (!Number.isInteger(epoch) || epoch < 0) throw new UserInputError(`batches: epoch must be a non-negative integer, got ${epoch}`);
    const indices = options.indices ?? Array.from({ length: dataset.size }, (_, i) => i);
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= dataset.size)
        throw new UserInputError(`batches: index ${i} is outside the dataset ${dataset.name} (size ${dataset.size})`);
    }
    this.order = options.shuffle === false ? [...indices] : new Rng(mixSeed(seed, epoch)).permutation(indices.length).map((k) => indices[k]!);
    this.start = options.start ?? 0;
    if (!Number.isInteger(this.start) || this.start < 0 || this.start > this.order.length) {
      throw new UserInputError(`batches: start must be an integer in 0..${this.order.length}, got ${this.start}`);
    }
    this.batchSize = batchSize;
    this.transform = TransformSchema.parse(options.transforms ?? {});
  }

  /** Batches left from `start` (an upper bound when corrupt samples get skipped). */
  get numBatches(): number {
    const left = this.order.length - this.start;
    return this.options.dropLast ? Math.floor(left / this.batchSize) : Math.ceil(left / this.batchSize);
  }

  private async load(position: number): Promise<Loaded> {
    const index = this.order[position]!;
    try {
      const rng = new Rng(mixSeed(this.options.seed, this.options.epoch ?? 0, index));
      if (this.transform.crop && this.dataset.imageSize) {
        // Plan the crop from the header size, then decode only the source window it reads.
        const { height, width } = await this.dataset.imageSize(index);
        const params = planTransform(height, width, this.transform, rng);
        const region = sourceRegion(params, height, width);
        const sample = await this.dataset.get(index, { region });
        const frame = { top: region.top, left: region.left, fullHeight: height, fullWidth: width };
        return { ok: true, index, id: sample.id, sample: { ...resample(sample, params, this.transform.normalize, frame), params } };
      }
      const sample = await this.dataset.get(index);
      const params = planTransform(sample.height, sample.width, this.transform, rng);
      return { ok: true, index, id: sample.id, sample: { ...resample(sample, params, this.transform.normalize), params } };
    } catch (error) {
      return { ok: false, index, error };
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    const window = Math.max(1, this.options.prefetch ?? 2) * this.batchSize;
    // Promises never reject (see load), so abandoning them when the consumer stops is safe.
    const pending = new Map<number, Promise<Loaded>>();
    let scheduled = this.start;
    let pos = this.start;
    const fill = () => {
      while (scheduled < this.order.length && scheduled < pos + window) {
        pending.set(scheduled, this.load(scheduled));
        scheduled++;
      }
    };
    while (pos < this.order.length) {
      const first = pos;
      const items: Extract<Loaded, { ok: true }>[] = [];
      while (items.length < this.batchSize && pos < this.order.length) {
        fill();
        const result = await pending.get(pos)!;
        pending.delete(pos);
        pos++;
        if (result.ok) items.push(result);
        else this.handleFailure(result);
      }
      fill();
      // One macrotask turn: lets finished decodes run their callbacks and start the next ones, even when
      // every await above resolved at once (the consumer's synchronous step would otherwise starve them).
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (items.length === 0 || (items.length < this.batchSize && this.options.dropLast)) return;
      yield this.assemble(items, first, pos);
    }
  }

  private handleFailure(result: Extract<Loaded, { ok: false }>): void {
    const { error, index } = result;
    if (this.options.skipCorrupt && error instanceof CorruptImageError) {
      const entry = { index, id: this.dataset.ids[index] ?? String(index), file: error.file, message: error.message };
      this.skipped.push(entry);
      this.options.onEvent?.({ type: 'corrupt-skipped', ...entry });
      return;
    }
    throw error;
  }

  private assemble(items: Extract<Loaded, { ok: true }>[], position: number, nextPosition: number): Batch {
    const { height, width } = items[0]!.sample;
    const odd = items.find((it) => it.sample.height !== height || it.sample.width !== width);
    if (odd) {
      throw new UserInputError(
        `batches: samples of one batch differ in size (${items[0]!.id} is ${width}×${height}, ${odd.id} is ${odd.sample.width}×${odd.sample.height}); ` +
          'set transforms.crop (or resize to a fixed [height, width]) or use batchSize 1',
      );
    }
    const n = items.length;
    const plane = height * width;
    const images = new Float32Array(n * plane * 3);
    const labels = new Int32Array(n * plane);
    items.forEach((it, k) => {
      images.set(it.sample.image, k * plane * 3);
      labels.set(it.sample.label, k * plane);
    });
    return { images, labels, batchSize: n, height, width, ids: items.map((it) => it.id), indices: items.map((it) => it.index), position, nextPosition };
  }
}

/** A prefetching, seeded, resumable stream of batches (see BatchStream). */
export function batches(dataset: Dataset, options: BatchOptions): BatchStream {
  return new BatchStream(dataset, options);
}
