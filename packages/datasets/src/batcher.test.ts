import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { batches, type Batch } from './batcher.js';
import { openDataset } from './spec.js';
import { searchSplit } from './split.js';
import { IMAGENET_MEAN, IMAGENET_STD, type TransformConfig } from './transforms.js';
import type { Dataset, GetOptions, Sample } from './types.js';
import { makeTempDir, rgbPixels, writeFile, writeGreyPng, writeRgb } from './test-helpers.js';

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

const synth = openDataset({ kind: 'synthetic', size: 13, height: 24, width: 28, numClasses: 4, seed: 5 });
const AUG: TransformConfig = { scale: [0.5, 1.5], crop: [16, 16], flip: true };

async function collect(stream: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of stream) out.push(b);
  return out;
}

/** Per-sample (image, label) bytes keyed by dataset index. */
function bySample(list: Batch[]): Map<number, string> {
  const map = new Map<number, string>();
  for (const b of list) {
    const plane = b.height * b.width;
    b.indices.forEach((idx, k) => {
      const img = Buffer.from(b.images.buffer, k * plane * 12, plane * 12).toString('base64');
      const lab = Buffer.from(b.labels.buffer, k * plane * 4, plane * 4).toString('base64');
      map.set(idx, img + lab);
    });
  }
  return map;
}

describe('batches', () => {
  it('is deterministic for (seed, epoch), reports its order, and covers the indices once', async () => {
    const a = batches(synth, { batchSize: 3, transforms: AUG, seed: 11, epoch: 2 });
    const b = batches(synth, { batchSize: 3, transforms: AUG, seed: 11, epoch: 2 });
    const [la, lb] = [await collect(a), await collect(b)];
    expect(a.order).toEqual(b.order);
    expect([...a.order].sort((x, y) => x - y)).toEqual(Array.from({ length: 13 }, (_, i) => i));
    expect(la.flatMap((x) => x.indices)).toEqual(a.order);
    expect(la.map((x) => x.batchSize)).toEqual([3, 3, 3, 3, 1]);
    expect(la.map((x) => x.position)).toEqual([0, 3, 6, 9, 12]);
    expect(la.map((x) => x.nextPosition)).toEqual([3, 6, 9, 12, 13]);
    expect(la[0]!.ids).toEqual(la[0]!.indices.map((i) => `synthetic-${i}`));
    expect(la[0]!.images).toHaveLength(3 * 16 * 16 * 3);
    expect(la[0]!.labels).toBeInstanceOf(Int32Array);
    expect(bySample(la)).toEqual(bySample(lb));
    const c = batches(synth, { batchSize: 3, transforms: AUG, seed: 11, epoch: 3 });
    expect(c.order).not.toEqual(a.order);
  });

  it('resumes exactly at a position, also mid-batch', async () => {
    const full = await collect(batches(synth, { batchSize: 2, transforms: AUG, seed: 4, epoch: 1 }));
    const fullSamples = bySample(full);
    const resumed = batches(synth, { batchSize: 2, transforms: AUG, seed: 4, epoch: 1, start: 4 });
    const tail = await collect(resumed);
    expect(tail.map((x) => x.indices)).toEqual(full.slice(2).map((x) => x.indices));
    expect(bySample(tail)).toEqual(new Map([...fullSamples].filter(([i]) => tail.some((t) => t.indices.includes(i)))));
    const odd = await collect(batches(synth, { batchSize: 2, transforms: AUG, seed: 4, epoch: 1, start: 3 }));
    expect(odd[0]!.indices).toEqual(resumed.order.slice(3, 5));
    for (const [i, bytes] of bySample(odd)) expect(bytes).toBe(fullSamples.get(i));
    expect(() => batches(synth, { batchSize: 2, seed: 4, start: 14 })).toThrow(/start must be an integer in 0\.\.13/);
  });

  it('without shuffling or augmentation, batches are the normalised samples in index order', async () => {
    const list = await collect(batches(synth, { batchSize: 4, seed: 0, shuffle: false, indices: [2, 7, 1, 0] }));
    expect(list).toHaveLength(1);
    const b = list[0]!;
    expect(b.indices).toEqual([2, 7, 1, 0]);
    const plane = 24 * 28;
    for (const [k, idx] of b.indices.entries()) {
      const s = await synth.get(idx);
      for (let p = 0; p < plane; p += 37) {
        expect(b.labels[k * plane + p]).toBe(s.label[p]);
        for (let c = 0; c < 3; c++) {
          expect(b.images[(k * plane + p) * 3 + c]).toBeCloseTo((s.image[p * 3 + c]! / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!, 5);
        }
      }
    }
  });

  it('draws only from the given indices (a search split) and can drop the last partial batch', async () => {
    const split = searchSplit(synth, { seed: 9 });
    const list = await collect(batches(synth, { batchSize: 2, transforms: AUG, seed: 1, indices: split.trainB, dropLast: true }));
    const used = list.flatMap((b) => b.indices);
    expect(used).toHaveLength(Math.floor(split.trainB.length / 2) * 2);
    for (const i of used) expect(split.trainB).toContain(i);
    expect(() => batches(synth, { batchSize: 2, seed: 1, indices: [13] })).toThrow(/index 13 is outside/);
  });

  it('prefetches a bounded number of samples ahead of the consumer', async () => {
    let started = 0;
    const slow: Dataset = Object.create(synth, {
      get: {
        value: async (i: number): Promise<Sample> => {
          started++;
          await new Promise((r) => setTimeout(r, 5));
          return synth.get(i);
        },
      },
    });
    const stream = batches(slow, { batchSize: 2, prefetch: 3, transforms: AUG, seed: 0 });
    const seen: number[] = [];
    for await (const b of stream) {
      seen.push(started);
      expect(b.batchSize).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 20)); // the "training step"
    }
    // When batch k arrives, samples up to batch k + prefetch have been started, never more.
    expect(seen.slice(0, 3)).toEqual([8, 10, 12]);
    expect(seen.at(-1)).toBe(13);
  });

  it('batches of differently sized samples without a crop are an error naming them', async () => {
    const root = join(tmp.dir, 'sizes');
    writeFile(join(root, 'classes.json'), JSON.stringify({ classes: ['a', 'b'] }));
    for (const [id, w] of [
      ['p', 6],
      ['q', 7],
    ] as const) {
      await writeRgb(
        join(root, `images/${id}.png`),
        w,
        4,
        rgbPixels(w, 4, () => [1, 1, 1]),
        'png',
      );
      await writeGreyPng(join(root, `masks/${id}.png`), w, 4, new Uint8Array(w * 4));
    }
    const ds = openDataset({ kind: 'folder', root });
    await expect(collect(batches(ds, { batchSize: 2, seed: 0, shuffle: false }))).rejects.toThrow(/p is 6×4, q is 7×4.*transforms\.crop/);
    expect((await collect(batches(ds, { batchSize: 2, seed: 0, transforms: { crop: [4, 4] } })))[0]!.batchSize).toBe(2);
  });

  it('corrupt images: an error naming the file, or skipped and counted with skipCorrupt', async () => {
    const root = join(tmp.dir, 'corrupt');
    writeFile(join(root, 'classes.json'), JSON.stringify({ classes: ['a', 'b'] }));
    for (const id of ['a', 'b', 'c', 'd']) {
      if (id === 'c') writeFile(join(root, 'images/c.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
      else
        await writeRgb(
          join(root, `images/${id}.png`),
          5,
          5,
          rgbPixels(5, 5, () => [9, 9, 9]),
          'png',
        );
      await writeGreyPng(join(root, `masks/${id}.png`), 5, 5, new Uint8Array(25));
    }
    const ds = openDataset({ kind: 'folder', root });
    await expect(collect(batches(ds, { batchSize: 2, seed: 0, shuffle: false }))).rejects.toThrow(join(root, 'images/c.jpg'));
    const events: unknown[] = [];
    const stream = batches(ds, { batchSize: 2, seed: 0, shuffle: false, skipCorrupt: true, onEvent: (e) => events.push(e) });
    const list = await collect(stream);
    expect(list.map((b) => b.ids)).toEqual([['a', 'b'], ['d']]);
    expect(list[1]!.position).toBe(2);
    expect(stream.skipped.map((s) => [s.id, s.file])).toEqual([['c', join(root, 'images/c.jpg')]]);
    expect(events).toHaveLength(1);
  });

  it('file datasets decode only the crop window, with output identical to whole-image decoding', async () => {
    const root = join(tmp.dir, 'window');
    writeFile(join(root, 'classes.json'), JSON.stringify({ classes: ['a', 'b', 'c'] }));
    for (const id of ['u', 'v', 'w']) {
      await writeRgb(
        join(root, `images/${id}.png`),
        50,
        40,
        rgbPixels(50, 40, (x, y) => [(x * 5 + y) % 256, (y * 6) % 256, id.charCodeAt(0)]),
        'png',
      );
      await writeGreyPng(
        join(root, `masks/${id}.png`),
        50,
        40,
        new Uint8Array(2000).map((_, i) => (i % 50 < 20 ? 1 : i < 1000 ? 2 : 0)),
      );
    }
    const ds = openDataset({ kind: 'folder', root });
    const regions: unknown[] = [];
    const spy: Dataset = Object.create(ds, {
      get: { value: (i: number, o?: GetOptions) => (regions.push(o?.region), ds.get(i, o)) },
    });
    const whole: Dataset = Object.create(ds, { imageSize: { value: undefined } });
    for (const transforms of [
      { resize: 0.5, crop: [15, 15], flip: true },
      { scale: [0.5, 2], crop: [30, 30], flip: true },
    ] as TransformConfig[]) {
      const a = await collect(batches(spy, { batchSize: 2, transforms, seed: 3 }));
      const b = await collect(batches(whole, { batchSize: 2, transforms, seed: 3 }));
      expect(bySample(a)).toEqual(bySample(b));
    }
    expect(regions.every((r) => r !== undefined)).toBe(true);
  });
});
