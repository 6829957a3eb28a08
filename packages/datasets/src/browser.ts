/** @autodeeplab/datasets in a web page (the package's `browser` export): the classes and palettes (the datasets read files). */
export type { Color } from './types.js';
export { CITYSCAPES_CLASSES, CITYSCAPES_PALETTE, VOC_CLASSES, VOC_PALETTE, ADE20K_CLASSES, ADE20K_PALETTE, vocColormap } from './classes.js';
export { paletteForClasses } from './palette.js';
