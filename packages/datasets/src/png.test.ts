import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeLabel } from './decode.js';
import { encodeIndexedPng, readPngHeader } from './png.js';
import { buildPalettePng, makeTempDir, writeFile } from './test-helpers.js';

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

// Palette colours deliberately far from their indices: RGB decoding could not pass for index decoding.
const PALETTE: [number, number, number][] = [
  [200, 10, 10],
  [10, 200, 10],
  [10, 10, 200],
  [250, 250, 0],
  [0, 128, 255],
  [77, 33, 99],
  [1, 2, 3],
  [90, 90, 90],
  [13, 170, 140],
  [240, 120, 30],
  [60, 0, 60],
  [128, 128, 0],
  [5, 250, 130],
  [180, 180, 255],
  [33, 66, 99],
  [255, 255, 255],
];

function pattern(width: number, height: number, levels: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = (x * 3 + y * 5 + ((x * y) % 7)) % levels;
  return out;
}

async function sharpRgb(file: string): Promise<Uint8Array> {
  const { data } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

describe('palette PNG labels', () => {
  it('decodes a hand-built 8-bit palette PNG (all five row filters) to palette indices, not colours', async () => {
    const [w, h] = [13, 10];
    const indices = pattern(w, h, 16);
    indices[0] = 15; // white entry: RGB (255,255,255) would read as 255 = ignore if colours leaked through
    const file = join(tmp.dir, 'pal8.png');
    writeFile(file, buildPalettePng(w, h, indices, PALETTE, { filters: [0, 1, 2, 3, 4] }));
    expect(readPngHeader(Buffer.from(buildPalettePng(w, h, indices, PALETTE))).colorType).toBe(3);

    // Independent check that the file is a valid palette PNG: libvips expands it to the palette colours.
    const rgb = await sharpRgb(file);
    for (let i = 0; i < w * h; i++) expect([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]]).toEqual(PALETTE[indices[i]!]);

    const label = await decodeLabel(file);
    expect([label.width, label.height]).toEqual([w, h]);
    expect(Array.from(label.data)).toEqual(Array.from(indices));
  });

  it.each([1, 2, 4] as const)('decodes %i-bit packed palette PNGs', async (bitDepth) => {
    const [w, h] = [11, 5]; // odd width: the last byte of each row is partly padding
    const indices = pattern(w, h, 1 << bitDepth);
    const file = join(tmp.dir, `pal${bitDepth}.png`);
    writeFile(file, buildPalettePng(w, h, indices, PALETTE.slice(0, 1 << bitDepth), { bitDepth, filters: [0, 2, 4, 1, 3] }));
    const rgb = await sharpRgb(file);
    for (let i = 0; i < w * h; i++) expect(rgb[3 * i]).toBe(PALETTE[indices[i]!]![0]);
    expect(Array.from((await decodeLabel(file)).data)).toEqual(Array.from(indices));
  });

  it('encodeIndexedPng writes a palette PNG that viewers show in colour and decodeLabel reads as indices', async () => {
    const [w, h] = [17, 9];
    const indices = pattern(w, h, 16);
    indices[5] = 255;
    const palette = [...PALETTE, ...Array.from({ length: 240 }, (_, i) => [i, 255 - i, 7] as [number, number, number])];
    const file = join(tmp.dir, 'encoded.png');
    writeFile(file, await encodeIndexedPng(indices, w, h, palette));
    const rgb = await sharpRgb(file);
    for (let i = 0; i < w * h; i++) expect([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]]).toEqual(palette[indices[i]!]);
    expect(Array.from((await decodeLabel(file)).data)).toEqual(Array.from(indices));
  });

  it('rejects a palette PNG with truncated image data, naming the file', async () => {
    const good = buildPalettePng(8, 8, pattern(8, 8, 4), PALETTE);
    const file = join(tmp.dir, 'truncated.png');
    writeFile(file, good.subarray(0, good.length - 20));
    await expect(decodeLabel(file)).rejects.toThrow(file);
  });
});
