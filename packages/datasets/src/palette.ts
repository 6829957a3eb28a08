import { CITYSCAPES_CLASSES, CITYSCAPES_PALETTE, vocColormap } from './classes.js';
import type { Color } from './types.js';

/** The colours to draw a network's classes with: Cityscapes' own where the names are Cityscapes' 19, else the VOC colour map. */
export function paletteForClasses(classNames: readonly string[]): readonly Color[] {
  const isCityscapes = classNames.length === CITYSCAPES_CLASSES.length && classNames.every((name, i) => name === CITYSCAPES_CLASSES[i]);
  return isCityscapes ? CITYSCAPES_PALETTE : vocColormap(classNames.length);
}
