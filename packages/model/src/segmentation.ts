/**
 * From pixels to a coloured mask, the same in Node (`autodeeplab predict`) and in a web page: the
 * network's preprocessing, forward, argmax, and colouring with a palette.
 */
import * as tf from '@tensorflow/tfjs';
import { UserInputError } from '@autodeeplab/core';
import type { Network } from './network.js';
import type { Preprocessing } from './network-file.js';

/** 8-bit pixels, row-major, interleaved: RGB (3 channels) or RGBA (4: alpha is ignored). */
export interface Pixels {
  data: Uint8Array | Uint8ClampedArray;
  height: number;
  width: number;
  channels: 3 | 4;
}

export type PaletteColor = readonly [number, number, number];

function checkPixels(image: Pixels): void {
  const expected = image.height * image.width * image.channels;
  if (image.data.length !== expected) {
    throw new UserInputError(`image data has ${image.data.length} values, expected ${expected} (${image.height}×${image.width}×${image.channels})`);
  }
}

/**
 * The class of each pixel (row-major, height × width): pixels scaled to [0, 1], normalised by the
 * network's preprocessing, through the network (in eval mode), argmax over classes.
 */
export async function segmentPixels(network: Network, preprocessing: Preprocessing, image: Pixels): Promise<Uint8Array> {
  checkPixels(image);
  const { height, width, channels } = image;
  if (network.config.numClasses > 256) throw new UserInputError(`segmentPixels: ${network.config.numClasses} classes do not fit a byte per pixel`);
  const mask = tf.tidy(() => {
    let pixels = tf.tensor4d(Float32Array.from(image.data), [1, height, width, channels]);
    if (channels === 4) pixels = pixels.slice([0, 0, 0, 0], [1, height, width, 3]);
    const x = pixels.div(255).sub(tf.tensor1d(preprocessing.mean)).div(tf.tensor1d(preprocessing.std)) as tf.Tensor4D;
    return tf.argMax(network.forward(x), -1).squeeze([0]);
  });
  try {
    return new Uint8Array(await mask.data());
  } finally {
    mask.dispose();
  }
}

/** The mask in colour: each pixel its class's palette colour (black for a class the palette lacks), `channels` per pixel (alpha 255). */
export function colourMask(classIds: ArrayLike<number>, palette: readonly PaletteColor[], channels: 3 | 4 = 3): Uint8ClampedArray {
  const out = new Uint8ClampedArray(classIds.length * channels);
  for (let p = 0; p < classIds.length; p++) {
    const colour = palette[classIds[p]!] ?? [0, 0, 0];
    for (let k = 0; k < 3; k++) out[channels * p + k] = colour[k]!;
    if (channels === 4) out[4 * p + 3] = 255;
  }
  return out;
}

/** The image with the mask's colours blended in at `opacity` (0: the image, 1: the mask), in the image's channel layout. */
export function overlayMask(image: Pixels, classIds: ArrayLike<number>, palette: readonly PaletteColor[], opacity: number): Uint8ClampedArray {
  checkPixels(image);
  if (classIds.length !== image.height * image.width) throw new UserInputError(`mask has ${classIds.length} pixels, the image ${image.height * image.width}`);
  const { channels } = image;
  const out = new Uint8ClampedArray(image.data.length);
  for (let p = 0; p < classIds.length; p++) {
    const colour = palette[classIds[p]!] ?? [0, 0, 0];
    for (let k = 0; k < 3; k++) out[channels * p + k] = Math.round((1 - opacity) * image.data[channels * p + k]! + opacity * colour[k]!);
    if (channels === 4) out[4 * p + 3] = image.data[4 * p + 3]!;
  }
  return out;
}

/** Pixels per class id (index = class id). */
export function classPixelCounts(classIds: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let p = 0; p < classIds.length; p++) counts[classIds[p]!] = (counts[classIds[p]!] ?? 0) + 1;
  return counts;
}
