import type { Pixels } from '@autodeeplab/model';

export interface DecodedImage extends Pixels {
  /** The file's own size, when the image was scaled down to fit `maxSide`. */
  scaledFrom: { height: number; width: number } | null;
}

/**
 * The pixels of an image file as the browser decodes it, unchanged: no colour-space conversion and no
 * premultiplied alpha, so that a PNG gives the same values here as in Node. An image whose longer side
 * exceeds `maxSide` is scaled down to it (a phone photo would not fit a browser's GPU memory).
 */
export async function imagePixels(file: Blob, maxSide: number): Promise<DecodedImage> {
  const options: ImageBitmapOptions = { colorSpaceConversion: 'none', premultiplyAlpha: 'none' };
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, options);
  } catch (error) {
    throw new Error(`cannot decode this file as an image (${(error as Error).message}); use a PNG, JPEG or WebP`, { cause: error });
  }
  let scaledFrom: DecodedImage['scaledFrom'] = null;
  const side = Math.max(bitmap.width, bitmap.height);
  if (side > maxSide) {
    scaledFrom = { height: bitmap.height, width: bitmap.width };
    const scale = maxSide / side;
    const resized = { resizeWidth: Math.round(bitmap.width * scale), resizeHeight: Math.round(bitmap.height * scale), resizeQuality: 'high' as const };
    bitmap.close();
    bitmap = await createImageBitmap(file, { ...options, ...resized });
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(bitmap, 0, 0);
  const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
  const { height, width } = bitmap;
  bitmap.close();
  return { data, height, width, channels: 4, scaledFrom };
}
