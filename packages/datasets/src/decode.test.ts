import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { UserInputError } from '@autodeeplab/core';
import { CorruptImageError, decodeImage, decodeLabel } from './decode.js';
import { makeTempDir, rgbPixels, writeFile, writeGreyPng, writeRgb } from './test-helpers.js';

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

describe('decodeImage', () => {
  it('decodes PNG exactly and JPEG approximately to HWC RGB', async () => {
    const pixels = rgbPixels(20, 12, (x, y) => [x * 10, y * 20, 128]);
    await writeRgb(join(tmp.dir, 'a.png'), 20, 12, pixels, 'png');
    await writeRgb(join(tmp.dir, 'a.jpg'), 20, 12, pixels, 'jpeg');
    const png = await decodeImage(join(tmp.dir, 'a.png'));
    expect([png.width, png.height, png.data.length]).toEqual([20, 12, 20 * 12 * 3]);
    expect(Array.from(png.data)).toEqual(Array.from(pixels));
    const jpg = await decodeImage(join(tmp.dir, 'a.jpg'));
    let maxErr = 0;
    for (let i = 0; i < pixels.length; i++) maxErr = Math.max(maxErr, Math.abs(jpg.data[i]! - pixels[i]!));
    expect(maxErr).toBeLessThan(24);
  });

  it('expands grey images to three equal channels', async () => {
    const grey = new Uint8Array(6 * 4).map((_, i) => i * 10);
    await writeGreyPng(join(tmp.dir, 'g.png'), 6, 4, grey);
    const img = await decodeImage(join(tmp.dir, 'g.png'));
    for (let i = 0; i < grey.length; i++) expect([img.data[3 * i], img.data[3 * i + 1], img.data[3 * i + 2]]).toEqual([grey[i], grey[i], grey[i]]);
  });

  it('names the file of a corrupt or missing image', async () => {
    const file = join(tmp.dir, 'corrupt.jpg');
    writeFile(file, Buffer.from('this is not a jpeg at all'));
    const err = await decodeImage(file).catch((e) => e);
    expect(err).toBeInstanceOf(CorruptImageError);
    expect(err.message).toContain(file);
    const missing = join(tmp.dir, 'nope.png');
    const err2 = await decodeImage(missing).catch((e) => e);
    expect(err2).toBeInstanceOf(UserInputError);
    expect(err2).not.toBeInstanceOf(CorruptImageError);
    expect(err2.message).toContain(missing);
  });
});

describe('decodeLabel', () => {
  it('reads grey PNG values unchanged (all 256 values)', async () => {
    const values = new Uint8Array(256 * 2).map((_, i) => (i * 37) % 256);
    await writeGreyPng(join(tmp.dir, 'l.png'), 256, 2, values);
    expect(Array.from((await decodeLabel(join(tmp.dir, 'l.png'))).data)).toEqual(Array.from(values));
  });

  it('accepts grey RGB labels and rejects colour RGB labels naming the file', async () => {
    await writeRgb(
      join(tmp.dir, 'greyrgb.png'),
      4,
      2,
      rgbPixels(4, 2, (x) => [x, x, x]),
      'png',
    );
    expect(Array.from((await decodeLabel(join(tmp.dir, 'greyrgb.png'))).data)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    const file = join(tmp.dir, 'colour.png');
    await writeRgb(
      file,
      4,
      2,
      rgbPixels(4, 2, (x) => [x, 0, 9]),
      'png',
    );
    await expect(decodeLabel(file)).rejects.toThrow(/colour \(RGB\)/);
    await expect(decodeLabel(file)).rejects.toThrow(file);
  });

  it('maps colour-coded masks through a palette, unknown colours to UNKNOWN_COLOR', async () => {
    const colors: [number, number, number][] = [
      [0, 0, 0],
      [255, 0, 0],
      [0, 255, 0],
    ];
    const file = join(tmp.dir, 'cmask.png');
    await writeRgb(file, 4, 1, new Uint8Array([0, 0, 0, 255, 0, 0, 0, 255, 0, 1, 2, 3]), 'png');
    expect(Array.from((await decodeLabel(file, { colors })).data)).toEqual([0, 1, 2, 65535]);
  });
});
