/**
 * Image and label decoding. sharp (libvips) reads and decodes files on libuv's thread pool as ONE job
 * each (no chain of fs callbacks that would wait for the event loop while a synchronous training step
 * runs), so decodes overlap each other and the step. Palette and 16-bit label PNGs go through png.ts,
 * because sharp expands palettes to RGB and would lose the class indices.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { FileFormatError, UserInputError } from '@autodeeplab/core';
import { decodeSingleChannelPng, isPng, PngError, readPngHeader, readPngPalette } from './png.js';
import type { Region } from './types.js';

/** A corrupt or undecodable image: names the file. `skipCorrupt` in the batcher skips these. */
export class CorruptImageError extends FileFormatError {
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(file, `cannot decode image: ${problem}`, options);
  }
}

export interface RgbImage {
  /** HWC, 3 channels, 8-bit sRGB. */
  data: Uint8Array;
  height: number;
  width: number;
}

export interface RawLabel {
  /** One value per pixel (HW): class index / raw id as stored in the file. */
  data: Uint8Array | Uint16Array;
  height: number;
  width: number;
}

/** A label value outside any palette colour (colour-coded masks): always out of range. */
export const UNKNOWN_COLOR = 65535;

/** How a label file is decoded: by sharp as 8-bit grey, by png.ts (indices / 16-bit), or as RGB. */
export type LabelKind = 'grey' | 'indexed' | 'rgb';

export interface FileInfo {
  height: number;
  width: number;
  /** For labels: which decoder applies. */
  labelKind: LabelKind;
}

function notFound(file: string, what: string, error: unknown): UserInputError | undefined {
  const e = error as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT' || /^Input file is missing/.test(e?.message ?? '')) return new UserInputError(`${what} not found: ${file}`, { cause: error });
  return undefined;
}

async function readBytes(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw notFound(file, what, error) ?? new UserInputError(`cannot read ${what} ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** Size and label decoder from the file header (no pixel decoding). */
export async function inspectImage(file: string, what = 'image'): Promise<FileInfo> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(file).metadata();
  } catch (error) {
    throw notFound(file, what, error) ?? new CorruptImageError(file, (error as Error).message, { cause: error });
  }
  if (!meta.width || !meta.height) throw new CorruptImageError(file, 'no dimensions in the header');
  const channels = meta.channels ?? 3;
  const labelKind: LabelKind =
    meta.format === 'png' && (meta.isPalette || (channels === 1 && meta.depth === 'ushort')) ? 'indexed' : channels <= 2 ? 'grey' : 'rgb';
  return { height: meta.height, width: meta.width, labelKind };
}

/** Width and height from the file header (no pixel decoding). */
export async function imageDimensions(file: string, what = 'image'): Promise<{ height: number; width: number }> {
  const { height, width } = await inspectImage(file, what);
  return { height, width };
}

/**
 * Decodes a JPEG/PNG (anything sharp reads) to 8-bit RGB, dropping alpha; grey images are expanded.
 * With `region`, only that window is returned (libvips stops decoding below it).
 */
export async function decodeImage(file: string, region?: Region): Promise<RgbImage> {
  try {
    let pipeline = sharp(file);
    if (region) pipeline = pipeline.extract(region);
    const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), height: info.height, width: info.width };
  } catch (error) {
    throw notFound(file, 'image', error) ?? new CorruptImageError(file, (error as Error).message, { cause: error });
  }
}

export interface DecodeLabelOptions {
  /** Decode only this window. */
  region?: Region;
  /**
   * Colour-coded masks: each pixel's RGB is looked up in this palette and replaced by its index
   * (colours not in the palette give UNKNOWN_COLOR). Without it, RGB labels must be grey (R = G = B).
   */
  colors?: readonly (readonly [number, number, number])[];
  /** The decoder, when already known from inspectImage (saves reading the header again). */
  kind?: LabelKind;
}

/**
 * Decodes a segmentation label to one value per pixel. Palette PNGs give their palette INDICES (the
 * PASCAL VOC convention), grey PNGs their grey values (16-bit kept whole).
 */
export async function decodeLabel(file: string, options: DecodeLabelOptions = {}): Promise<RawLabel> {
  try {
    const label = await decodeLabelFile(file, options);
    const r = options.region;
    // Paths that decode whole files (palette/16-bit PNGs, colour masks) are cut to the region here.
    return r && (label.height !== r.height || label.width !== r.width) ? cropLabel(label, r, file) : label;
  } catch (error) {
    if (error instanceof UserInputError) throw error;
    const problem = error instanceof PngError ? `invalid PNG: ${error.message}` : (error as Error).message;
    throw notFound(file, 'label', error) ?? new CorruptImageError(file, problem, { cause: error });
  }
}

function cropLabel(label: RawLabel, r: Region, file: string): RawLabel {
  if (r.top < 0 || r.left < 0 || r.top + r.height > label.height || r.left + r.width > label.width) {
    throw new RangeError(`${file}: region ${JSON.stringify(r)} outside the ${label.width}×${label.height} label`);
  }
  const out = label.data instanceof Uint16Array ? new Uint16Array(r.height * r.width) : new Uint8Array(r.height * r.width);
  for (let y = 0; y < r.height; y++) {
    const start = (r.top + y) * label.width + r.left;
    out.set(label.data.subarray(start, start + r.width), y * r.width);
  }
  return { data: out, height: r.height, width: r.width };
}

async function decodeLabelFile(file: string, options: DecodeLabelOptions): Promise<RawLabel> {
  const withRegion = (p: sharp.Sharp) => (options.region ? p.extract(options.region) : p);
  if (options.kind === 'grey' && !options.colors) return decodeGrey(withRegion(sharp(file)));

  const bytes = await readBytes(file, 'label');
  if (isPng(bytes) && !options.colors) {
    const header = readPngHeader(bytes);
    if ((header.colorType === 3 || (header.colorType === 0 && header.bitDepth !== 8)) && !header.interlaced) {
      const { data, width, height } = await decodeSingleChannelPng(bytes);
      return { data, width, height };
    }
    if (header.colorType === 3) {
      // Interlaced palette PNG (rare): let sharp expand it, then map colours back to palette indices.
      return decodeColorLabel(bytes, readPngPalette(bytes), file, true);
    }
  }
  if (options.colors) return decodeColorLabel(bytes, options.colors, file, false);
  const meta = await sharp(bytes).metadata();
  if ((meta.channels ?? 0) <= 2) return decodeGrey(withRegion(sharp(bytes)));
  // RGB label: accepted when grey (some tools save single-channel ids as RGB), else an error.
  const { data, info } = await withRegion(sharp(bytes)).removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const out = new Uint8Array(info.width * info.height);
  for (let i = 0, j = 0; i < out.length; i++, j += 3) {
    const r = data[j]!;
    if (data[j + 1] !== r || data[j + 2] !== r) {
      throw new FileFormatError(
        file,
        `label is a colour (RGB) image (pixel ${i % info.width},${Math.floor(i / info.width)} is ${r},${data[j + 1]},${data[j + 2]}); ` +
          'expected single-channel class ids or a palette PNG (for colour-coded masks give a palette and maskEncoding "color")',
      );
    }
    out[i] = r;
  }
  return { data: out, height: info.height, width: info.width };
}

async function decodeGrey(pipeline: sharp.Sharp): Promise<RawLabel> {
  const { data, info } = await pipeline.extractChannel(0).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), height: info.height, width: info.width };
}

async function decodeColorLabel(bytes: Buffer, colors: readonly (readonly [number, number, number])[], file: string, fromPalette: boolean): Promise<RawLabel> {
  const lookup = new Map<number, number>();
  colors.forEach(([r, g, b], i) => {
    const key = (r << 16) | (g << 8) | b;
    if (lookup.has(key) && fromPalette) {
      throw new FileFormatError(file, `interlaced palette PNG with duplicate palette colour ${r},${g},${b}: indices are ambiguous; re-save it non-interlaced`);
    }
    if (!lookup.has(key)) lookup.set(key, i);
  });
  const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const out = new Uint16Array(info.width * info.height);
  for (let i = 0, j = 0; i < out.length; i++, j += 3) {
    out[i] = lookup.get((data[j]! << 16) | (data[j + 1]! << 8) | data[j + 2]!) ?? UNKNOWN_COLOR;
  }
  return { data: out, height: info.height, width: info.width };
}
