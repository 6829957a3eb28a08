import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { FileFormatError } from '@autodeeplab/core';
import { ADE20K_CLASSES, ADE20K_PALETTE, parseObjectInfoCsv } from './classes.js';
import { FileDataset, type FileItem } from './file-dataset.js';
import { firstExisting, isDir, isFile, layoutError, missingLabelError, sortedEntries } from './fs-util.js';
import { buildLut } from './label-map.js';
import type { OpenOptions } from './types.js';

export const Ade20kSpecSchema = z.object({
  kind: z.literal('ade20k'),
  /** ADEChallengeData2016/ itself or the folder holding it. */
  root: z.string().min(1),
  split: z
    .enum(['training', 'validation', 'train', 'val'])
    .default('training')
    .transform((s) => (s === 'train' ? 'training' : s === 'val' ? 'validation' : s)),
});
export type Ade20kSpec = z.input<typeof Ade20kSpecSchema>;

const LAYOUT = `  <root>[/ADEChallengeData2016]/images/{training,validation}/ADE_*.jpg
  .../annotations/{training,validation}/ADE_*.png  (single channel: 0 = other (ignored), 1..150 = classes)
  .../objectInfo150.csv                            (optional: class names)`;

export function openAde20k(input: Ade20kSpec, options: OpenOptions = {}): FileDataset {
  const spec = Ade20kSpecSchema.parse(input);
  const candidates = [spec.root, join(spec.root, 'ADEChallengeData2016')];
  const dir = candidates.find((c) => isDir(join(c, 'images')));
  if (!dir) throw layoutError('ade20k', `images/ in one of ${candidates.join(', ')}`, LAYOUT);
  const imageDir = join(dir, 'images', spec.split);
  const labelDir = join(dir, 'annotations', spec.split);
  if (!isDir(imageDir)) throw layoutError('ade20k', `the directory ${imageDir}`, LAYOUT, imageDir);
  if (!isDir(labelDir)) throw layoutError('ade20k', `the directory ${labelDir}`, LAYOUT, labelDir);

  const items: FileItem[] = [];
  for (const file of sortedEntries(imageDir)) {
    if (!/\.jpe?g$/i.test(file)) continue;
    const id = file.replace(/\.[^.]+$/, '');
    const image = join(imageDir, file);
    const label = join(labelDir, `${id}.png`);
    if (!isFile(label)) throw missingLabelError('ade20k', image, label);
    items.push({ id, image, label });
  }
  if (items.length === 0) throw layoutError('ade20k', `*.jpg images in ${imageDir}`, LAYOUT);

  let classNames: readonly string[] = ADE20K_CLASSES;
  const csv = firstExisting([join(dir, 'objectInfo150.csv'), join(dirname(dir), 'objectInfo150.csv')]);
  if (csv) {
    const names = parseObjectInfoCsv(readFileSync(csv, 'utf8'));
    if (!names) throw new FileFormatError(csv, 'expected a CSV with columns Idx,…,Name and one row for each index 1..150');
    classNames = names;
  }
  // 0 = "other" is ignored; 1..150 → 0..149.
  const lut = buildLut(
    Array.from({ length: 150 }, (_, c) => [c + 1, c] as [number, number]),
    [0, 255],
  );
  return new FileDataset({ kind: 'ade20k', name: `ade20k/${spec.split}`, classNames, palette: ADE20K_PALETTE, items, lut }, options);
}
