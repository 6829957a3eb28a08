/** Shared by the SIGKILL test and its child process: one search, defined once. */
import { memoryBatchSource } from '../memory-source.js';
import type { SearchConfigInput } from '../search.js';
import type { BatchSource } from '../types.js';
import { TinySearchModel, colourSamples } from './tiny.js';

export const KILL_CONFIG: SearchConfigInput = { epochs: 3, archStartEpoch: 1, checkpointEvery: 1, weightLr: 0.05, archLr: 0.05, validateEvery: 0 };

/** Delays every batch, so that a kill lands in the middle of the run. */
function slow(source: BatchSource, ms: number): BatchSource {
  if (ms <= 0) return source;
  return {
    batchesPerEpoch: source.batchesPerEpoch,
    async *epoch(epoch, start) {
      for await (const batch of source.epoch(epoch, start)) {
        await new Promise((resolve) => setTimeout(resolve, ms));
        yield batch;
      }
    },
  };
}

export function killFixture(delayMs = 0) {
  return {
    model: new TinySearchModel('kill', { seed: 3 }),
    data: {
      trainA: slow(memoryBatchSource(colourSamples(8, { seed: 21 }), { batchSize: 2, seed: 1 }), delayMs),
      trainB: slow(memoryBatchSource(colourSamples(8, { seed: 22 }), { batchSize: 2, seed: 2 }), delayMs),
    },
    config: KILL_CONFIG,
  };
}
