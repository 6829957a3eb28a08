import { batches, openDataset, type Dataset, type DatasetEvent, type DatasetSpec, type TransformConfig } from '@autodeeplab/datasets';
import type { BatchSource } from '@autodeeplab/optim';

export interface SourceOptions {
  indices?: readonly number[];
  batchSize: number;
  transforms?: TransformConfig;
  seed: number;
  /** Shuffle each epoch (training) or keep dataset order (evaluation). */
  shuffle: boolean;
  /** Drop a final partial batch (training wants equal batches). */
  dropLast: boolean;
  prefetch?: number;
}

/**
 * Adapts the datasets package's seeded batcher to optim's BatchSource: optim resumes at a batch
 * index, the batcher at a position in the epoch order, so position = index × batch size.
 */
export function batchSource(dataset: Dataset, options: SourceOptions): BatchSource {
  const count = options.indices?.length ?? dataset.size;
  const batchesPerEpoch = options.dropLast ? Math.floor(count / options.batchSize) : Math.ceil(count / options.batchSize);
  return {
    batchesPerEpoch,
    epoch(epoch: number, start = 0) {
      return batches(dataset, {
        ...(options.indices ? { indices: options.indices } : {}),
        batchSize: options.batchSize,
        ...(options.transforms ? { transforms: options.transforms } : {}),
        seed: options.seed,
        epoch,
        start: start * options.batchSize,
        shuffle: options.shuffle,
        dropLast: options.dropLast,
        ...(options.prefetch !== undefined ? { prefetch: options.prefetch } : {}),
      });
    },
  };
}

/** Opens a dataset, passing its warnings (labels out of range) to `warn`. */
export function open(spec: DatasetSpec, warn: (line: string) => void): Dataset {
  let warned = 0;
  return openDataset(spec, {
    onEvent: (event: DatasetEvent) => {
      // One line per sample, and only the first few: a badly mapped dataset would flood the log.
      if (warned++ < 5) warn(`warning: ${event.file}: ${event.pixels} label pixels with values ${event.values.join(', ')} outside the classes (ignored)`);
    },
  });
}
