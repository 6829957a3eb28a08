import { batches, type BatchOptions, type Dataset } from '@autodeeplab/datasets';
import type { BatchSource } from './types.js';

export type DatasetSourceOptions = Omit<BatchOptions, 'epoch' | 'start'>;

/**
 * A BatchSource over a dataset of `@autodeeplab/datasets`: epoch e reads `batches(dataset,
 * {...options, epoch: e, start: index·batchSize})`, whose order and augmentation depend only on
 * (seed, epoch, sample), so a resumed run sees the batches it would have seen. Drops the last
 * partial batch by default (equal batches for training). With `skipCorrupt` a skipped image shifts
 * the later batches of its epoch, and a resume inside that epoch is then no longer exact.
 */
export function datasetBatchSource(dataset: Dataset, options: DatasetSourceOptions): BatchSource {
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
