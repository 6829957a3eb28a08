import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileFormatError } from '@autodeeplab/core';
import { openDataset } from './spec.js';
import { buildPalettePng, makeTempDir, rgbPixels, writeFile, writeGreyPng, writeRgb } from './test-helpers.js';

const tmp = makeTempDir();
const W = 8;
const H = 5;
const root = join(tmp.dir, 'custom');
const mask = new Uint8Array(W * H).map((_, i) => [0, 1, 2, 255, 9][i % 5]!);

beforeAll(async () => {
  writeFile(
    join(root, 'classes.json'),
    JSON.stringify({
      classes: ['background', 'cat', 'dog'],
      ignoreValue: 255,
      palette: [
        [0, 0, 0],
        [255, 0, 0],
        [0, 0, 255],
      ],
    }),
  );
  await writeRgb(
    join(root, 'images/b.png'),
    W,
    H,
    rgbPixels(W, H, () => [1, 2, 3]),
    'png',
  );
  await writeRgb(
    join(root, 'images/a.jpg'),
    W,
    H,
    rgbPixels(W, H, () => [200, 2, 3]),
    'jpeg',
  );
  writeFile(join(root, 'images/notes.txt'), 'not an image');
  await writeGreyPng(join(root, 'masks/a.png'), W, H, mask);
  writeFile(
    join(root, 'masks/b.png'),
    buildPalettePng(
      W,
      H,
      mask,
      Array.from({ length: 256 }, (_, i) => [255 - i, 7, 7]),
    ),
  );
  writeFile(join(root, 'splits/val.txt'), 'b\n');
});
afterAll(() => tmp.cleanup());

describe('folder', () => {
  it('uses every image (sorted) or a split list; names, palette, class count from classes.json', async () => {
    const ds = openDataset({ kind: 'folder', root });
    expect(ds.ids).toEqual(['a', 'b']);
    expect(ds.classNames).toEqual(['background', 'cat', 'dog']);
    expect(ds.palette[1]).toEqual([255, 0, 0]);
    expect(openDataset({ kind: 'folder', root, split: 'val' }).ids).toEqual(['b']);
    for (const k of [0, 1]) {
      const s = await ds.get(k);
      for (let i = 0; i < mask.length; i++) expect(s.label[i]).toBe(mask[i] === 9 ? 255 : mask[i]);
    }
    expect(ds.stats.outOfRangeValues).toEqual({ 9: (2 * (W * H)) / 5 });
  });

  it('ignoreValue and firstClassValue shift the mask values (e.g. 0 = unlabelled)', async () => {
    const r = join(tmp.dir, 'shifted');
    writeFile(join(r, 'classes.json'), JSON.stringify({ classes: ['a', 'b'], ignoreValue: 0, firstClassValue: 1 }));
    await writeRgb(
      join(r, 'images/x.png'),
      4,
      1,
      rgbPixels(4, 1, () => [0, 0, 0]),
      'png',
    );
    await writeGreyPng(join(r, 'masks/x.png'), 4, 1, new Uint8Array([0, 1, 2, 3]));
    const s = await openDataset({ kind: 'folder', root: r }).get(0);
    expect(Array.from(s.label)).toEqual([255, 0, 1, 255]);
  });

  it('colour-coded masks map through the palette', async () => {
    const r = join(tmp.dir, 'colour');
    writeFile(
      join(r, 'classes.json'),
      JSON.stringify({
        classes: ['bg', 'road', 'car'],
        palette: [
          [0, 0, 0],
          [128, 64, 128],
          [0, 0, 142],
        ],
        maskEncoding: 'color',
      }),
    );
    await writeRgb(
      join(r, 'images/x.png'),
      4,
      1,
      rgbPixels(4, 1, () => [0, 0, 0]),
      'png',
    );
    await writeRgb(join(r, 'masks/x.png'), 4, 1, new Uint8Array([0, 0, 142, 128, 64, 128, 0, 0, 0, 5, 5, 5]), 'png');
    const ds = openDataset({ kind: 'folder', root: r });
    expect(Array.from((await ds.get(0)).label)).toEqual([2, 1, 0, 255]);
    expect(ds.stats.outOfRangePixels).toBe(1);
  });

  it('classes.json is validated: errors name the file and the field', () => {
    const r = join(tmp.dir, 'bad');
    writeFile(join(r, 'images/x.png'), '');
    writeFile(join(r, 'masks/x.png'), '');
    const cases: [unknown, RegExp][] = [
      [{ classes: [] }, /classes/],
      [{ classes: ['a', 'b'], palette: [[0, 0, 0]] }, /palette: expected 2 colours/],
      [{ classes: ['a'], maskEncoding: 'color' }, /palette: required/],
      [{ classes: ['a', 'b'], ignoreValue: 1 }, /ignoreValue: 1 is also a class value/],
      [{ classes: ['a'], ignoreValue: 300 }, /ignoreValue/],
    ];
    for (const [json, pattern] of cases) {
      writeFile(join(r, 'classes.json'), JSON.stringify(json));
      let err: unknown;
      try {
        openDataset({ kind: 'folder', root: r });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FileFormatError);
      expect((err as Error).message).toContain(join(r, 'classes.json'));
      expect((err as Error).message).toMatch(pattern);
    }
    writeFile(join(r, 'classes.json'), '{ not json');
    expect(() => openDataset({ kind: 'folder', root: r })).toThrow(/not valid JSON/);
  });

  it('layout errors: missing root, classes.json, split list, mask', () => {
    expect(() => openDataset({ kind: 'folder', root: join(tmp.dir, 'none') })).toThrow(/dataset root .*none[\s\S]*<root>\/images\/<id>/);
    writeFileSync(join(tmp.dir, 'a-file'), 'x');
    expect(() => openDataset({ kind: 'folder', root: join(tmp.dir, 'a-file') })).toThrow(/dataset root .*a-file but it is a file, not a directory/);
    const r = join(tmp.dir, 'nomask');
    writeFile(join(r, 'classes.json'), JSON.stringify({ classes: ['a', 'b'] }));
    writeFile(join(r, 'images/x.jpg'), 'x');
    writeFile(join(r, 'masks/.keep'), '');
    expect(() => openDataset({ kind: 'folder', root: r })).toThrow(`image ${join(r, 'images/x.jpg')} has no label: expected ${join(r, 'masks/x.png')}`);
    expect(() => openDataset({ kind: 'folder', root: r, split: 'train' })).toThrow(join(r, 'splits/train.txt'));
    expect(() => openDataset({ kind: 'folder', root: join(tmp.dir, 'bad2') } as never)).toThrow(/bad2/);
  });

  it('a corrupt image is a FileFormatError naming it', async () => {
    const r = join(tmp.dir, 'corrupt');
    writeFile(join(r, 'classes.json'), JSON.stringify({ classes: ['a', 'b'] }));
    writeFile(join(r, 'images/x.jpg'), 'garbage');
    await writeGreyPng(join(r, 'masks/x.png'), 2, 2, new Uint8Array(4));
    await expect(openDataset({ kind: 'folder', root: r }).get(0)).rejects.toThrow(join(r, 'images/x.jpg'));
  });
});
