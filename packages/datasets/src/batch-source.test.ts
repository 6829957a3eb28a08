import { describe, expect, it } from 'vitest';
import { batches, type Batch } from './batcher.js';
import { datasetBatchSource } from './batch-source.js';
import { openDataset } from './spec.js';

const synth = openDataset({ kind: 'synthetic', size: 11, height: 12, width: 12, numClasses: 3, seed: 9 });
const OPTIONS = { batchSize: 3, seed: 4, transforms: { crop: [8, 8] as [number, number], flip: true } };

async function collect(stream: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of stream) out.push(b);
  return out;
}

describe('datasetBatchSource', () => {
  it('counts whole batches when dropping the last partial one (the default) and all batches otherwise', async () => {
    // 11 images in batches of 3: 3 whole batches and one of 2.
    const train = datasetBatchSource(synth, OPTIONS);
    expect(train.batchesPerEpoch).toBe(3);
    expect((await collect(train.epoch(0))).map((b) => b.batchSize)).toEqual([3, 3, 3]);
    const val = datasetBatchSource(synth, { ...OPTIONS, dropLast: false, shuffle: false });
    expect(val.batchesPerEpoch).toBe(4);
    expect((await collect(val.epoch(0))).map((b) => b.batchSize)).toEqual([3, 3, 3, 2]);
    // A subset of indices: 7 → 2 whole batches.
    expect(datasetBatchSource(synth, { ...OPTIONS, indices: [0, 1, 2, 3, 4, 5, 6] }).batchesPerEpoch).toBe(2);
  });

  it('resumed at a batch index gives the batches of the whole epoch from that index on', async () => {
    const source = datasetBatchSource(synth, OPTIONS);
    for (const epoch of [0, 1]) {
      const whole = await collect(source.epoch(epoch));
      const resumed = await collect(source.epoch(epoch, 2));
      expect(resumed).toHaveLength(1);
      expect(resumed[0]!.indices).toEqual(whole[2]!.indices);
      expect(resumed[0]!.images).toEqual(whole[2]!.images);
      expect(resumed[0]!.labels).toEqual(whole[2]!.labels);
    }
    // The oracle: the batcher itself, started at position index × batch size.
    const direct = await collect(batches(synth, { ...OPTIONS, epoch: 1, start: 3, dropLast: true }));
    const fromSource = await collect(source.epoch(1, 1));
    expect(fromSource.map((b) => b.indices)).toEqual(direct.map((b) => b.indices));
    // Epochs differ in order.
    const [first, second] = [await collect(source.epoch(0)), await collect(source.epoch(1))];
    expect(first.flatMap((b) => b.indices)).not.toEqual(second.flatMap((b) => b.indices));
  });
});
