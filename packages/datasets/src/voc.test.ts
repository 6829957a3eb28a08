import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDataset } from './spec.js';
import { buildPalettePng, makeTempDir, rgbPixels, writeFile, writeGreyPng, writeRgb } from './test-helpers.js';

const tmp = makeTempDir();
const devkit = join(tmp.dir, 'VOCdevkit');
const voc = join(devkit, 'VOC2012');
const W = 10;
const H = 6;

// The VOC colour map for classes 0..20, written out by hand (as in the VOC devkit's labelcolormap),
// plus 255 = boundary (224,224,192).
const VOC_COLORS: [number, number, number][] = [
  [0, 0, 0],
  [128, 0, 0],
  [0, 128, 0],
  [128, 128, 0],
  [0, 0, 128],
  [128, 0, 128],
  [0, 128, 128],
  [128, 128, 128],
  [64, 0, 0],
  [192, 0, 0],
  [64, 128, 0],
  [192, 128, 0],
  [64, 0, 128],
  [192, 0, 128],
  [64, 128, 128],
  [192, 128, 128],
  [0, 64, 0],
  [128, 64, 0],
  [0, 192, 0],
  [128, 192, 0],
  [0, 64, 128],
];
const PALETTE_256 = Array.from({ length: 256 }, (_, i) => (i < 21 ? VOC_COLORS[i]! : i === 255 ? [224, 224, 192] : [i, i, 0]) as [number, number, number]);

function classIndices(shift: number): Uint8Array {
  // Classes 0..20, the 255 boundary, and 30 (not a VOC class).
  const values = [...Array.from({ length: 21 }, (_, i) => i), 255, 30];
  return new Uint8Array(W * H).map((_, i) => values[(i + shift) % values.length]!);
}

const ids = ['2007_000032', '2007_000039', '2008_000123'];

beforeAll(async () => {
  for (const [k, id] of ids.entries()) {
    await writeRgb(
      join(voc, 'JPEGImages', `${id}.jpg`),
      W,
      H,
      rgbPixels(W, H, () => [40 * k, 100, 200]),
      'jpeg',
    );
    writeFile(join(voc, 'SegmentationClass', `${id}.png`), buildPalettePng(W, H, classIndices(k), PALETTE_256, { filters: [0, 1, 2, 3, 4] }));
    await writeGreyPng(join(voc, 'SegmentationClassAug', `${id}.png`), W, H, classIndices(k + 5));
  }
  writeFile(join(voc, 'ImageSets/Segmentation/train.txt'), `${ids[0]}\n${ids[2]}\n`);
  writeFile(join(voc, 'ImageSets/Segmentation/val.txt'), `${ids[1]}\n`);
  writeFile(join(voc, 'ImageSets/Segmentation/trainval.txt'), ids.join('\n'));
  // DeepLab-style aug list: "/JPEGImages/<id>.jpg /SegmentationClassAug/<id>.png"
  writeFile(join(voc, 'ImageSets/Segmentation/train_aug.txt'), ids.map((id) => `/JPEGImages/${id}.jpg /SegmentationClassAug/${id}.png`).join('\n'));
});
afterAll(() => tmp.cleanup());

describe('voc', () => {
  it('reads split lists from any of the three roots', () => {
    for (const root of [tmp.dir, devkit, voc]) {
      expect(openDataset({ kind: 'voc', root, split: 'train' }).ids).toEqual([ids[0], ids[2]]);
    }
    expect(openDataset({ kind: 'voc', root: tmp.dir, split: 'val' }).ids).toEqual([ids[1]]);
    const tv = openDataset({ kind: 'voc', root: tmp.dir, split: 'trainval' });
    expect(tv.ids).toEqual(ids);
    expect(tv.numClasses).toBe(21);
    expect(tv.classNames[15]).toBe('person');
    expect(tv.palette).toEqual(VOC_COLORS);
  });

  it('palette PNG labels give class indices; 255 stays ignore; other values become 255 and are counted', async () => {
    const ds = openDataset({ kind: 'voc', root: tmp.dir, split: 'trainval' });
    for (let k = 0; k < ids.length; k++) {
      const s = await ds.get(k);
      const raw = classIndices(k);
      expect([s.width, s.height]).toEqual([W, H]);
      for (let i = 0; i < raw.length; i++) expect(s.label[i]).toBe(raw[i] === 30 ? 255 : raw[i]);
      expect(Math.abs(s.image[0]! - 40 * k)).toBeLessThan(10); // JPEG: approximately
    }
    expect(ds.stats.samplesWithOutOfRange).toBe(3);
    expect(Object.keys(ds.stats.outOfRangeValues)).toEqual(['30']);
  });

  it('train_aug reads SegmentationClassAug (single-channel) with the DeepLab list format', async () => {
    const ds = openDataset({ kind: 'voc', root: tmp.dir, split: 'train_aug' });
    expect(ds.ids).toEqual(ids);
    expect(ds.files(1)!.label).toBe(join(voc, 'SegmentationClassAug', `${ids[1]}.png`));
    const s = await ds.get(1);
    const raw = classIndices(6);
    for (let i = 0; i < raw.length; i++) expect(s.label[i]).toBe(raw[i] === 30 ? 255 : raw[i]);
    // aug labels for a standard split
    expect(openDataset({ kind: 'voc', root: tmp.dir, split: 'val', aug: true }).files(0)!.label).toContain('SegmentationClassAug');
  });

  it('errors name the expected paths and the layout', () => {
    expect(() => openDataset({ kind: 'voc', root: join(tmp.dir, 'nothing') })).toThrow(/JPEGImages\/ in one of .*nothing[\s\S]*ImageSets\/Segmentation/);
    expect(() => openDataset({ kind: 'voc', root: tmp.dir, split: 'test' })).toThrow(join(voc, 'ImageSets', 'Segmentation', 'test.txt'));
  });

  it('an image listed without its label names both files', () => {
    writeFile(join(voc, 'ImageSets/Segmentation/broken.txt'), 'lonely\n');
    writeFile(join(voc, 'JPEGImages/lonely.jpg'), 'x');
    expect(() => openDataset({ kind: 'voc', root: tmp.dir, split: 'broken' })).toThrow(
      `image ${join(voc, 'JPEGImages/lonely.jpg')} has no label: expected ${join(voc, 'SegmentationClass/lonely.png')}`,
    );
  });
});
