/**
 * A minimal PNG reader/writer for label images. sharp expands palette PNGs to RGB; segmentation
 * labels (PASCAL VOC) need the palette INDICES, so palette and 16-bit grey PNGs are decoded here.
 * Inflate runs on libuv's thread pool (async zlib); only the row unfiltering runs in JS.
 */
import { inflate, deflate, deflateSync } from 'node:zlib';
import { promisify } from 'node:util';

const inflateAsync = promisify(inflate);
const deflateAsync = promisify(deflate);

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: number;
  interlaced: boolean;
}

export class PngError extends Error {}

export function isPng(buffer: Uint8Array): boolean {
  return buffer.length >= 8 && Buffer.from(buffer.buffer, buffer.byteOffset, 8).equals(SIGNATURE);
}

interface Chunk {
  type: string;
  data: Buffer;
}

function* chunks(buffer: Buffer): Generator<Chunk> {
  let pos = 8;
  while (pos + 8 <= buffer.length) {
    const length = buffer.readUInt32BE(pos);
    const type = buffer.toString('latin1', pos + 4, pos + 8);
    const end = pos + 8 + length;
    if (end + 4 > buffer.length) throw new PngError(`truncated ${type} chunk at byte ${pos}`);
    yield { type, data: buffer.subarray(pos + 8, end) };
    if (type === 'IEND') return;
    pos = end + 4;
  }
  throw new PngError('no IEND chunk (truncated file)');
}

/** Reads the IHDR chunk only (cheap: no decompression). */
export function readPngHeader(input: Uint8Array): PngHeader {
  const buffer = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (!isPng(buffer)) throw new PngError('not a PNG file (bad signature)');
  if (buffer.length < 33 || buffer.toString('latin1', 12, 16) !== 'IHDR') throw new PngError('missing IHDR chunk');
  return {
    width: buffer.readUInt32BE(16),
    height: buffer.readUInt32BE(20),
    bitDepth: buffer[24]!,
    colorType: buffer[25]!,
    interlaced: buffer[28] === 1,
  };
}

/** The PLTE entries as [r, g, b] triples (empty when the file has none). */
export function readPngPalette(input: Uint8Array): [number, number, number][] {
  const buffer = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  for (const chunk of chunks(buffer)) {
    if (chunk.type === 'PLTE') {
      const out: [number, number, number][] = [];
      for (let i = 0; i + 2 < chunk.data.length; i += 3) out.push([chunk.data[i]!, chunk.data[i + 1]!, chunk.data[i + 2]!]);
      return out;
    }
    if (chunk.type === 'IDAT') break;
  }
  return [];
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decodes a non-interlaced single-channel PNG (grey 1/2/4/8/16-bit or palette 1/2/4/8-bit) to one value
 * per pixel: the palette index for colour type 3, the grey value otherwise (16-bit: the full value,
 * hence a Uint16Array). Other colour types or interlaced files: PngError (the caller falls back).
 */
export async function decodeSingleChannelPng(input: Uint8Array): Promise<{ width: number; height: number; data: Uint8Array | Uint16Array; header: PngHeader }> {
  const header = readPngHeader(input);
  const { width, height, bitDepth, colorType } = header;
  if (colorType !== 0 && colorType !== 3) throw new PngError(`colour type ${colorType} is not single-channel`);
  if (header.interlaced) throw new PngError('interlaced PNG');
  if (![1, 2, 4, 8, 16].includes(bitDepth) || (colorType === 3 && bitDepth === 16)) {
    throw new PngError(`invalid bit depth ${bitDepth} for colour type ${colorType}`);
  }
  const buffer = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const parts: Buffer[] = [];
  for (const chunk of chunks(buffer)) if (chunk.type === 'IDAT') parts.push(chunk.data);
  if (parts.length === 0) throw new PngError('no IDAT chunk');
  let raw: Buffer;
  try {
    raw = await inflateAsync(Buffer.concat(parts));
  } catch (error) {
    throw new PngError(`corrupt image data (${(error as Error).message})`);
  }
  const bitsPerPixel = bitDepth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3); // filter byte distance
  if (raw.length < (stride + 1) * height) {
    throw new PngError(`image data too short: ${raw.length} bytes for ${width}×${height} (expected ${(stride + 1) * height})`);
  }
  const out = bitDepth === 16 ? new Uint16Array(width * height) : new Uint8Array(width * height);
  let prev = new Uint8Array(stride);
  let cur = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const rowStart = y * (stride + 1);
    const filter = raw[rowStart]!;
    const src = raw.subarray(rowStart + 1, rowStart + 1 + stride);
    switch (filter) {
      case 0:
        cur.set(src);
        break;
      case 1:
        for (let i = 0; i < stride; i++) cur[i] = (src[i]! + (i >= bpp ? cur[i - bpp]! : 0)) & 255;
        break;
      case 2:
        for (let i = 0; i < stride; i++) cur[i] = (src[i]! + prev[i]!) & 255;
        break;
      case 3:
        for (let i = 0; i < stride; i++) cur[i] = (src[i]! + (((i >= bpp ? cur[i - bpp]! : 0) + prev[i]!) >> 1)) & 255;
        break;
      case 4:
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? cur[i - bpp]! : 0;
          const c = i >= bpp ? prev[i - bpp]! : 0;
          cur[i] = (src[i]! + paeth(a, prev[i]!, c)) & 255;
        }
        break;
      default:
        throw new PngError(`unknown filter type ${filter} in row ${y}`);
    }
    const base = y * width;
    if (bitDepth === 8) {
      out.set(cur.subarray(0, width), base);
    } else if (bitDepth === 16) {
      for (let x = 0; x < width; x++) out[base + x] = (cur[2 * x]! << 8) | cur[2 * x + 1]!;
    } else {
      const perByte = 8 / bitDepth;
      const mask = (1 << bitDepth) - 1;
      for (let x = 0; x < width; x++) {
        const byte = cur[Math.floor(x / perByte)]!;
        const shift = 8 - bitDepth * ((x % perByte) + 1);
        out[base + x] = (byte >> shift) & mask;
      }
    }
    [prev, cur] = [cur, prev];
  }
  return { width, height, data: out, header };
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 255]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Encodes per-pixel class indices as an 8-bit palette PNG (the PASCAL VOC label format): viewers show
 * the palette colours, and readers that keep indices (this package) get the class ids back.
 */
export async function encodeIndexedPng(
  indices: Uint8Array,
  width: number,
  height: number,
  palette: readonly (readonly [number, number, number])[],
): Promise<Buffer> {
  if (indices.length !== width * height) throw new RangeError(`indices has ${indices.length} values, expected ${width}×${height}`);
  if (palette.length === 0 || palette.length > 256) throw new RangeError(`palette must have 1..256 entries, got ${palette.length}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 3;
  const plte = Buffer.alloc(palette.length * 3);
  palette.forEach(([r, g, b], i) => plte.set([r, g, b], i * 3));
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) raw.set(indices.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const idat = await deflateAsync(raw);
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('PLTE', plte), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

/** Encodes HWC RGB pixels as an 8-bit truecolour PNG (e.g. prediction overlays). */
export function encodeRgbPng(rgb: Uint8Array, width: number, height: number): Buffer {
  if (rgb.length !== width * height * 3) throw new RangeError(`rgb has ${rgb.length} values, expected ${width}×${height}×3`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}
