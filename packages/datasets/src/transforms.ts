/**
 * Seeded augmentation: resize, random scale, random crop with padding, horizontal flip, normalisation.
 * All geometric steps compose into ONE resampling of the source, computed only for the output window:
 * a 321×321 crop of a rescaled 1024×2048 image costs 321×321 samples, not a full-image resize.
 * Images are bilinear (half-pixel centres, as tf.image.resize), labels nearest (no new values).
 */
import { z } from 'zod';
import type { Rng } from '@autodeeplab/core';
import { IGNORE_LABEL } from './types.js';
import type { Region } from './types.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

const Triple = z.tuple([z.number(), z.number(), z.number()]);
const Size = z.tuple([z.number().int().min(1), z.number().int().min(1)]);

export const TransformSchema = z
  .object({
    /** Deterministic resize first: [height, width], or a factor (0.5 = Cityscapes at half resolution). */
    resize: z.union([Size, z.number().positive()]).optional(),
    /** Random scale factor range [min, max] applied after `resize`. */
    scale: z.tuple([z.number().positive(), z.number().positive()]).optional(),
    /** Random crop [height, width]; smaller images are padded bottom/right (image: mean, label: ignore). */
    crop: Size.optional(),
    /** Random horizontal flip with probability 1/2. */
    flip: z.boolean().default(false),
    /** (x/255 − mean)/std per channel; false: x/255. Default ImageNet statistics. */
    normalize: z
      .union([z.object({ mean: Triple, std: Triple.refine((s) => s.every((v) => v > 0), 'std must be > 0') }), z.literal(false)])
      .default({ mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] }),
  })
  .refine((t) => !t.scale || t.scale[0] <= t.scale[1], { path: ['scale'], message: 'min must be ≤ max' });
export type TransformConfig = z.input<typeof TransformSchema>;
export type ParsedTransform = z.output<typeof TransformSchema>;

/** Where the output window came from: enough to map any output pixel back to the source. */
export interface TransformParams {
  /** Size of the whole image after resize and scale (before crop/pad). */
  scaledHeight: number;
  scaledWidth: number;
  /** Top-left of the output window in the scaled (padded) image. */
  cropY: number;
  cropX: number;
  flipped: boolean;
  height: number;
  width: number;
}

export interface TransformedSample {
  /** HWC float32, normalised; padding is the mean (0 after normalisation). */
  image: Float32Array;
  /** HW class ids, 255 ignore (padding included). */
  label: Uint8Array;
  height: number;
  width: number;
  params: TransformParams;
}

/**
 * The smallest and the largest [height, width] a transform makes of a height×width image (the
 * network's input size): the crop when there is one, else the resized image at the scale range's ends.
 */
export function transformedSizeRange(height: number, width: number, config: ParsedTransform): { min: [number, number]; max: [number, number] } {
  if (config.crop) return { min: [...config.crop], max: [...config.crop] };
  let h = height;
  let w = width;
  if (Array.isArray(config.resize)) [h, w] = config.resize;
  else if (typeof config.resize === 'number') {
    h = Math.max(1, Math.round(height * config.resize));
    w = Math.max(1, Math.round(width * config.resize));
  }
  const at = (s: number): [number, number] => [Math.max(1, Math.round(h * s)), Math.max(1, Math.round(w * s))];
  return config.scale ? { min: at(config.scale[0]), max: at(config.scale[1]) } : { min: [h, w], max: [h, w] };
}

/** Draws the random parameters (in a fixed order: scale, crop offsets, flip). */
export function planTransform(height: number, width: number, config: ParsedTransform, rng: Rng): TransformParams {
  let h = height;
  let w = width;
  if (Array.isArray(config.resize)) [h, w] = config.resize;
  else if (typeof config.resize === 'number') {
    h = Math.max(1, Math.round(height * config.resize));
    w = Math.max(1, Math.round(width * config.resize));
  }
  if (config.scale) {
    const s = rng.range(config.scale[0], config.scale[1]);
    h = Math.max(1, Math.round(h * s));
    w = Math.max(1, Math.round(w * s));
  }
  let cropY = 0;
  let cropX = 0;
  let outH = h;
  let outW = w;
  if (config.crop) {
    [outH, outW] = config.crop;
    cropY = rng.int(Math.max(h, outH) - outH + 1);
    cropX = rng.int(Math.max(w, outW) - outW + 1);
  }
  const flipped = config.flip ? rng.uniform() < 0.5 : false;
  return { scaledHeight: h, scaledWidth: w, cropY, cropX, flipped, height: outH, width: outW };
}

export interface ImageLabel {
  image: Uint8Array;
  label: Uint8Array;
  height: number;
  width: number;
}

/** Applies `config` (parsed or not) with random draws from `rng`. */
export function applyTransform(sample: ImageLabel, config: TransformConfig | ParsedTransform, rng: Rng): TransformedSample {
  const parsed = TransformSchema.parse(config);
  const params = planTransform(sample.height, sample.width, parsed, rng);
  return { ...resample(sample, params, parsed.normalize), params };
}

/** Source row/column of a bilinear sample's first tap (the second is min(i + 1, n − 1)) and its weight. */
function bilinearTap(dst: number, ratio: number, n: number): [number, number] {
  let f = (dst + 0.5) * ratio - 0.5;
  if (f < 0) f = 0;
  if (f > n - 1) f = n - 1;
  const i = Math.floor(f);
  return [i, f - i];
}

function nearestTap(dst: number, ratio: number, n: number): number {
  return Math.min(Math.floor((dst + 0.5) * ratio), n - 1);
}

/**
 * The part of a `height`×`width` source that the output window of `p` reads (bilinear and nearest
 * taps): decoding only this region gives exactly the same output.
 */
export function sourceRegion(p: TransformParams, height: number, width: number): Region {
  const ry = height / p.scaledHeight;
  const rx = width / p.scaledWidth;
  const span = (first: number, last: number, ratio: number, n: number): [number, number] => {
    const lo = Math.min(bilinearTap(first, ratio, n)[0], nearestTap(first, ratio, n));
    const hi = Math.max(Math.min(bilinearTap(last, ratio, n)[0] + 1, n - 1), nearestTap(last, ratio, n));
    return [lo, hi];
  };
  const [top, bottom] = span(p.cropY, Math.min(p.cropY + p.height, p.scaledHeight) - 1, ry, height);
  const [left, right] = span(p.cropX, Math.min(p.cropX + p.width, p.scaledWidth) - 1, rx, width);
  return { top, left, height: bottom - top + 1, width: right - left + 1 };
}

/** Where a decoded region sits in its full image (see sourceRegion). */
export interface SourceFrame {
  top: number;
  left: number;
  fullHeight: number;
  fullWidth: number;
}

/**
 * Computes the output window described by `params`. `sample` is the whole source, or with `frame` the
 * region of it that sourceRegion() named.
 */
export function resample(
  sample: ImageLabel,
  p: TransformParams,
  normalize: ParsedTransform['normalize'],
  frame: SourceFrame = { top: 0, left: 0, fullHeight: sample.height, fullWidth: sample.width },
): { image: Float32Array; label: Uint8Array; height: number; width: number } {
  const { fullHeight: H, fullWidth: W } = frame;
  const sw = sample.width; // row stride of the decoded data
  const { height: oh, width: ow, scaledHeight: sh, scaledWidth: swScaled } = p;
  const mean = normalize ? normalize.mean : [0, 0, 0];
  const std = normalize ? normalize.std : [1, 1, 1];
  const a = [1 / (255 * std[0]!), 1 / (255 * std[1]!), 1 / (255 * std[2]!)];
  const b = [-mean[0]! / std[0]!, -mean[1]! / std[1]!, -mean[2]! / std[2]!];
  // Padding: the mean colour, i.e. exactly 0 after normalisation (0 when not normalising).
  const image = new Float32Array(oh * ow * 3);
  const label = new Uint8Array(oh * ow).fill(IGNORE_LABEL);
  const ry = H / sh;
  const rx = W / swScaled;

  // Per output column: bilinear source columns and weight, nearest source column (region-relative).
  const bx0 = new Int32Array(ow);
  const bx1 = new Int32Array(ow);
  const bwx = new Float32Array(ow);
  const nx = new Int32Array(ow);
  const valid = new Uint8Array(ow);
  for (let x = 0; x < ow; x++) {
    const xs = p.cropX + (p.flipped ? ow - 1 - x : x);
    if (xs >= swScaled) continue;
    valid[x] = 1;
    const [x0, wx] = bilinearTap(xs, rx, W);
    bx0[x] = (x0 - frame.left) * 3;
    bx1[x] = (Math.min(x0 + 1, W - 1) - frame.left) * 3;
    bwx[x] = wx;
    nx[x] = nearestTap(xs, rx, W) - frame.left;
  }
  const src = sample.image;
  const lab = sample.label;
  for (let y = 0; y < oh; y++) {
    const ys = p.cropY + y;
    if (ys >= sh) break; // the rest is padding
    const [y0, wy] = bilinearTap(ys, ry, H);
    const r0 = (y0 - frame.top) * sw * 3;
    const r1 = (Math.min(y0 + 1, H - 1) - frame.top) * sw * 3;
    const ny = (nearestTap(ys, ry, H) - frame.top) * sw;
    let o = y * ow * 3;
    let lo = y * ow;
    for (let x = 0; x < ow; x++, o += 3, lo++) {
      if (!valid[x]) continue;
      const wx = bwx[x]!;
      const c0 = bx0[x]!;
      const c1 = bx1[x]!;
      for (let c = 0; c < 3; c++) {
        const top = src[r0 + c0 + c]! + (src[r0 + c1 + c]! - src[r0 + c0 + c]!) * wx;
        const bottom = src[r1 + c0 + c]! + (src[r1 + c1 + c]! - src[r1 + c0 + c]!) * wx;
        image[o + c] = (top + (bottom - top) * wy) * a[c]! + b[c]!;
      }
      label[lo] = lab[ny + nx[x]!]!;
    }
  }
  return { image, label, height: oh, width: ow };
}
