import { openDataset, type Dataset, type DatasetEvent, type DatasetSpec } from '@autodeeplab/datasets';

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
