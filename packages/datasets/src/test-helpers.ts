/** Fixture builders for the tests: real files in the real layouts, written at test time. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

export function makeTempDir(prefix = 'adl-datasets-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function ensureDir(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
}

/** An RGB image whose pixel (x, y) is fn(x, y). */
export function rgbPixels(width: number, height: number, fn: (x: number, y: number) => [number, number, number]): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.set(fn(x, y), (y * width + x) * 3);
  return out;
}

export async function writeRgb(file: string, width: number, height: number, pixels: Uint8Array, format: 'png' | 'jpeg'): Promise<void> {
  ensureDir(file);
  const img = sharp(Buffer.from(pixels), { raw: { width, height, channels: 3 } });
  await (format === 'png' ? img.png() : img.jpeg({ quality: 95 })).toFile(file);
}

/** A single-channel 8-bit grey PNG (colour type 0), as Cityscapes / ADE20K / SBD labels are. */
export async function writeGreyPng(file: string, width: number, height: number, values: Uint8Array): Promise<void> {
  ensureDir(file);
  await sharp(Buffer.from(values), { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toFile(file);
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * Builds a palette PNG by hand (signature, IHDR colour type 3, PLTE, IDAT, IEND), with the given
 * filter type per row (0..4, encoded here independently of the package's decoder) and bit depth.
 */
export function buildPalettePng(
  width: number,
  height: number,
  indices: Uint8Array,
  palette: [number, number, number][],
  options: { bitDepth?: 1 | 2 | 4 | 8; filters?: number[] } = {},
): Buffer {
  const bitDepth = options.bitDepth ?? 8;
  const stride = Math.ceil((width * bitDepth) / 8);
  const rows: Uint8Array[] = [];
  for (let y = 0; y < height; y++) {
    const row = new Uint8Array(stride);
    for (let x = 0; x < width; x++) {
      const v = indices[y * width + x]!;
      const bitPos = x * bitDepth;
      row[bitPos >> 3]! |= v << (8 - bitDepth - (bitPos & 7));
    }
    rows.push(row);
  }
  const out: number[] = [];
  for (let y = 0; y < height; y++) {
    const filter = options.filters?.[y % options.filters.length] ?? 0;
    const row = rows[y]!;
    const up = y > 0 ? rows[y - 1]! : new Uint8Array(stride);
    out.push(filter);
    for (let i = 0; i < stride; i++) {
      const a = i >= 1 ? row[i - 1]! : 0; // bpp = 1 for palette images
      const b = up[i]!;
      const c = i >= 1 ? up[i - 1]! : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out.push((row[i]! - pred) & 255);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = 3;
  const plte = Buffer.from(palette.flat());
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('PLTE', plte),
    pngChunk('IDAT', deflateSync(Buffer.from(out))),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

export function writeFile(file: string, data: string | Uint8Array): void {
  ensureDir(file);
  writeFileSync(file, data);
}
