/**
 * The one adapter from a dataset to the batch source the search and training loops of
 * `@autodeeplab/optim` read. It is typed here structurally (optim's `BatchSource` has the same
 * shape), so that datasets does not depend on optim nor optim on datasets.
 */
import { batches, type Batch, type BatchOptions } from './batcher.js';
import type { Dataset } from './types.js';

/** Batches per epoch and an epoch's batches from a batch index on (optim's `BatchSource`). */
export interface DatasetBatchSource {
  readonly batchesPerEpoch: number;
  epoch(epoch: number, start?: number): AsyncIterable<Batch>;
}

/** `batches` options without the position, which the loop chooses per epoch. */
export type DatasetSourceOptions = Omit<BatchOptions, 'epoch' | 'start'>;

/**
 * Epoch e reads `batches(dataset, {...options, epoch: e, start: index·batchSize})`: the loops resume
 * at a batch index, the batcher at a position in the epoch order. Order and augmentation depend only
 * on (seed, epoch, sample), so a resumed run sees the batches it would have seen. Drops the last
 * partial batch by default (equal batches for training; pass `dropLast: false` for evaluation). With
 * `skipCorrupt` a skipped image shifts the later batches of its epoch, and a resume inside that epoch
 * is then no longer exact.
 */
export function datasetBatchSource(dataset: Dataset, options: DatasetSourceOptions): DatasetBatchSource {
  const dropLast = options.dropLast ?? true;
  const count = options.indices?.length ?? dataset.size;
  const batchesPerEpoch = dropLast ? Math.floor(count / options.batchSize) : Math.ceil(count / options.batchSize);
  return {
    batchesPerEpoch,
    epoch(epoch: number, start = 0) {
      return batches(dataset, { ...options, dropLast, epoch, start: start * options.batchSize });
    },
  };
}
