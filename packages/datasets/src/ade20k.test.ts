import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { FileFormatError } from '@autodeeplab/core';
import { openDataset } from './spec.js';
import { makeTempDir, rgbPixels, writeFile, writeGreyPng, writeRgb } from './test-helpers.js';

const tmp = makeTempDir();
const ade = join(tmp.dir, 'ADEChallengeData2016');
const W = 16;
const H = 10;
const values = new Uint8Array(W * H).map((_, i) => (i === 7 ? 151 : i === 8 ? 200 : i % 151)); // 0..150 and two strays

beforeAll(async () => {
  for (const split of ['training', 'validation']) {
    for (const n of [2, 1]) {
      const id = `ADE_${split === 'training' ? 'train' : 'val'}_0000000${n}`;
      await writeRgb(
        join(ade, 'images', split, `${id}.jpg`),
        W,
        H,
        rgbPixels(W, H, () => [n * 50, 0, 0]),
        'jpeg',
      );
      await writeGreyPng(join(ade, 'annotations', split, `${id}.png`), W, H, values);
    }
  }
});
afterAll(() => tmp.cleanup());

describe('ade20k', () => {
  it('lists sorted images per split; accepts the dataset folder or its parent; train/val aliases', () => {
    const ds = openDataset({ kind: 'ade20k', root: tmp.dir });
    expect(ds.ids).toEqual(['ADE_train_00000001', 'ADE_train_00000002']);
    expect(openDataset({ kind: 'ade20k', root: ade, split: 'val' }).ids).toEqual(['ADE_val_00000001', 'ADE_val_00000002']);
    expect(ds.numClasses).toBe(150);
    expect(new Set(ds.classNames).size).toBe(150);
    expect([ds.classNames[0], ds.classNames[12], ds.classNames[149]]).toEqual(['wall', 'person', 'flag']);
    expect(ds.palette).toHaveLength(150);
  });

  it('0 → ignore, 1..150 → 0..149, values above 150 → ignore and counted', async () => {
    const ds = openDataset({ kind: 'ade20k', root: tmp.dir });
    const s = await ds.get(0);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      expect(s.label[i]).toBe(v === 0 || v > 150 ? 255 : v - 1);
    }
    expect(ds.stats.outOfRangeValues).toEqual({ 151: 1, 200: 1 });
  });

  it('class names come from objectInfo150.csv when present; a malformed one is an error naming it', () => {
    const rows = Array.from({ length: 150 }, (_, i) => `${i + 1},0.01,10,1,"name${i + 1};alt;other"`);
    const csv = join(ade, 'objectInfo150.csv');
    writeFile(csv, `Idx,Ratio,Train,Val,Name\n${rows.join('\n')}\n`);
    try {
      const ds = openDataset({ kind: 'ade20k', root: tmp.dir });
      expect(ds.classNames[0]).toBe('name1');
      expect(ds.classNames[149]).toBe('name150');
      writeFile(csv, 'Idx,Name\n1,wall\n');
      const err = (() => {
        try {
          openDataset({ kind: 'ade20k', root: tmp.dir });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(FileFormatError);
      expect((err as Error).message).toContain(csv);
    } finally {
      rmSync(csv);
    }
  });

  it('a missing annotation names both files; a missing split names the directory', () => {
    writeFile(join(ade, 'images', 'training', 'ADE_train_00000003.jpg'), 'x');
    try {
      expect(() => openDataset({ kind: 'ade20k', root: tmp.dir })).toThrow(
        `${join(ade, 'images/training/ADE_train_00000003.jpg')} has no label: expected ${join(ade, 'annotations/training/ADE_train_00000003.png')}`,
      );
    } finally {
      rmSync(join(ade, 'images', 'training', 'ADE_train_00000003.jpg'));
    }
    expect(() => openDataset({ kind: 'ade20k', root: join(tmp.dir, 'elsewhere') })).toThrow(/images\/ in one of/);
  });
});
