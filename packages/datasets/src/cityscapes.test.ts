import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { renameSync } from 'node:fs';
import { UserInputError } from '@autodeeplab/core';
import { openDataset } from './spec.js';
import type { DatasetEvent } from './types.js';
import { makeTempDir, rgbPixels, writeGreyPng, writeRgb } from './test-helpers.js';

// Written out from the Cityscapes label table (cityscapesScripts labels.py), not from the package.
const EXPECTED_TRAIN_ID: Record<number, number> = {
  7: 0,
  8: 1,
  11: 2,
  12: 3,
  13: 4,
  17: 5,
  19: 6,
  20: 7,
  21: 8,
  22: 9,
  23: 10,
  24: 11,
  25: 12,
  26: 13,
  27: 14,
  28: 15,
  31: 16,
  32: 17,
  33: 18,
};

const W = 12;
const H = 4;
/** Raw ids 0..33 plus 255 (license plate, stored -1) plus 200 (not a Cityscapes id) across the image. */
function rawIds(shift: number): Uint8Array {
  const values = [...Array.from({ length: 34 }, (_, i) => i), 255, 200];
  return new Uint8Array(W * H).map((_, i) => values[(i + shift) % values.length]!);
}

const tmp = makeTempDir();
const root = join(tmp.dir, 'cityscapes');
const frames = [
  ['aachen', 'aachen_000000_000019'],
  ['aachen', 'aachen_000001_000019'],
  ['bremen', 'bremen_000000_000019'],
] as const;

beforeAll(async () => {
  for (const [k, [city, base]] of frames.entries()) {
    await writeRgb(
      join(root, 'leftImg8bit/train', city, `${base}_leftImg8bit.png`),
      W,
      H,
      rgbPixels(W, H, (x, y) => [x * 20, y * 50, k * 80]),
      'png',
    );
    await writeGreyPng(join(root, 'gtFine/train', city, `${base}_gtFine_labelIds.png`), W, H, rawIds(k));
    // Unrelated files that must be ignored.
    await writeGreyPng(join(root, 'gtFine/train', city, `${base}_gtFine_instanceIds.png`), W, H, rawIds(0));
  }
  const [city, base] = frames[0];
  await writeRgb(
    join(root, 'leftImg8bit/val', city, `${base}_leftImg8bit.png`),
    W,
    H,
    rgbPixels(W, H, () => [1, 2, 3]),
    'png',
  );
  await writeGreyPng(join(root, 'gtFine/val', city, `${base}_gtFine_labelIds.png`), W, H, rawIds(0));
  await writeGreyPng(
    join(root, 'gtFine/val', city, `${base}_gtFine_labelTrainIds.png`),
    W,
    H,
    new Uint8Array(W * H).map((_, i) => (i % 22 === 21 ? 255 : i % 22)),
  );
  // Coarse: train_extra images with gtCoarse labels.
  await writeRgb(
    join(root, 'leftImg8bit/train_extra', 'erlangen', 'erlangen_000000_000001_leftImg8bit.png'),
    W,
    H,
    rgbPixels(W, H, () => [9, 9, 9]),
    'png',
  );
  await writeGreyPng(join(root, 'gtCoarse/train_extra', 'erlangen', 'erlangen_000000_000001_gtCoarse_labelIds.png'), W, H, rawIds(3));
});
afterAll(() => tmp.cleanup());

describe('cityscapes', () => {
  it('lists images by city in sorted order with the 19 classes and palette', () => {
    const ds = openDataset({ kind: 'cityscapes', root });
    expect(ds.size).toBe(3);
    expect(ds.ids).toEqual(frames.map(([c, b]) => `${c}/${b}`));
    expect(ds.numClasses).toBe(19);
    expect(ds.classNames[0]).toBe('road');
    expect(ds.classNames[18]).toBe('bicycle');
    expect(ds.palette).toHaveLength(19);
    expect(ds.palette[0]).toEqual([128, 64, 128]);
    expect(ds.ignoreLabel).toBe(255);
  });

  it('maps raw labelIds to train ids, others to 255, and counts values that are no Cityscapes id', async () => {
    const events: DatasetEvent[] = [];
    const ds = openDataset({ kind: 'cityscapes', root }, { onEvent: (e) => events.push(e) });
    for (let k = 0; k < 3; k++) {
      const s = await ds.get(k);
      const raw = rawIds(k);
      expect([s.width, s.height]).toEqual([W, H]);
      expect(s.image[2]).toBe(k * 80);
      for (let i = 0; i < raw.length; i++) expect(s.label[i]).toBe(EXPECTED_TRAIN_ID[raw[i]!] ?? 255);
    }
    await ds.get(0); // a second read is not counted twice
    const per = rawIds(0).filter((v) => v === 200).length;
    expect(ds.stats.samplesWithOutOfRange).toBe(3);
    expect(ds.stats.outOfRangeValues).toEqual({ 200: [0, 1, 2].reduce((n, k) => n + rawIds(k).filter((v) => v === 200).length, 0) });
    expect(per).toBeGreaterThan(0);
    expect(events.map((e) => [e.type, e.id, e.values])).toEqual(frames.map(([c, b]) => ['label-out-of-range', `${c}/${b}`, [200]]));
    expect(events[0]!.file).toContain('_gtFine_labelIds.png');
  });

  it('uses _labelTrainIds.png when present (auto) and raw ids when asked', async () => {
    const auto = openDataset({ kind: 'cityscapes', root, split: 'val' });
    expect(auto.files(0)!.label).toMatch(/_gtFine_labelTrainIds\.png$/);
    const s = await auto.get(0);
    // Stored 0..18 are train ids, 255 ignore; 19 and 20 are out of range → 255, counted.
    for (let i = 0; i < s.label.length; i++) expect(s.label[i]).toBe(i % 22 <= 18 ? i % 22 : 255);
    expect(auto.stats.outOfRangeValues).toEqual({ 19: 2, 20: 2 });
    const raw = openDataset({ kind: 'cityscapes', root, split: 'val', labelFormat: 'labelIds' });
    expect(raw.files(0)!.label).toMatch(/_gtFine_labelIds\.png$/);
  });

  it('reads coarse annotations', async () => {
    const ds = openDataset({ kind: 'cityscapes', root, split: 'train_extra', coarse: true });
    expect(ds.ids).toEqual(['erlangen/erlangen_000000_000001']);
    const s = await ds.get(0);
    const raw = rawIds(3);
    for (let i = 0; i < raw.length; i++) expect(s.label[i]).toBe(EXPECTED_TRAIN_ID[raw[i]!] ?? 255);
  });

  it('errors name the expected path and the layout', async () => {
    expect(() => openDataset({ kind: 'cityscapes', root: join(tmp.dir, 'missing') })).toThrow(/missing[\s\S]*leftImg8bit\/<split>\/<city>/);
    expect(() => openDataset({ kind: 'cityscapes', root, split: 'test' })).toThrow(join(root, 'leftImg8bit', 'test'));
    expect(() => openDataset({ kind: 'cityscapes', root, split: 'train', coarse: true })).toThrow(join(root, 'gtCoarse', 'train'));
  });

  it('an image without its label names both files', () => {
    const [city, base] = frames[1];
    const label = join(root, 'gtFine/train', city, `${base}_gtFine_labelIds.png`);
    renameSync(label, `${label}.bak`);
    try {
      const err = (() => {
        try {
          openDataset({ kind: 'cityscapes', root });
        } catch (e) {
          return e as Error;
        }
      })();
      expect(err).toBeInstanceOf(UserInputError);
      expect(err!.message).toContain(label);
      expect(err!.message).toContain(join(root, 'leftImg8bit/train', city, `${base}_leftImg8bit.png`));
    } finally {
      renameSync(`${label}.bak`, label);
    }
  });

  it('sizes that differ name both files', async () => {
    const r2 = join(tmp.dir, 'cs2');
    await writeRgb(
      join(r2, 'leftImg8bit/train/x/x_0_0_leftImg8bit.png'),
      W,
      H,
      rgbPixels(W, H, () => [0, 0, 0]),
      'png',
    );
    await writeGreyPng(join(r2, 'gtFine/train/x/x_0_0_gtFine_labelIds.png'), W + 1, H, new Uint8Array((W + 1) * H));
    const ds = openDataset({ kind: 'cityscapes', root: r2 });
    await expect(ds.get(0)).rejects.toThrow(/x_0_0_leftImg8bit\.png is 12×4.*x_0_0_gtFine_labelIds\.png is 13×4/);
  });
});
