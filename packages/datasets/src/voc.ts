import { join } from 'node:path';
import { z } from 'zod';
import { VOC_CLASSES, VOC_PALETTE } from './classes.js';
import { FileDataset, type FileItem } from './file-dataset.js';
import { firstExisting, isDir, isFile, layoutError, missingLabelError, readIdList } from './fs-util.js';
import { identityLut } from './label-map.js';
import type { OpenOptions } from './types.js';

export const VocSpecSchema = z.object({
  kind: z.literal('voc'),
  /** VOC2012/ itself, VOCdevkit/, or the folder holding VOCdevkit/. */
  root: z.string().min(1),
  /** A list name: train, val, trainval (ImageSets/Segmentation/<split>.txt), train_aug… */
  split: z.string().min(1).default('train'),
  /** Labels from SegmentationClassAug/ (SBD); default: true for split train_aug. */
  aug: z.boolean().optional(),
});
export type VocSpec = z.input<typeof VocSpecSchema>;

const LAYOUT = `  <root>[/VOCdevkit][/VOC2012]/JPEGImages/<id>.jpg
  .../SegmentationClass/<id>.png          (palette PNG: pixel indices are class ids, 255 ignored)
  .../ImageSets/Segmentation/<split>.txt  (train, val, trainval: one id per line)
  augmented (SBD): .../SegmentationClassAug/<id>.png and train_aug.txt in ImageSets/Segmentation/ or VOC2012/`;

export function findVocDir(root: string): string {
  const candidates = [root, join(root, 'VOC2012'), join(root, 'VOCdevkit', 'VOC2012')];
  const dir = candidates.find((c) => isDir(join(c, 'JPEGImages')));
  if (!dir) throw layoutError('voc', `JPEGImages/ in one of ${candidates.join(', ')}`, LAYOUT);
  return dir;
}

export function openVoc(input: VocSpec, options: OpenOptions = {}): FileDataset {
  const spec = VocSpecSchema.parse(input);
  const aug = spec.aug ?? spec.split === 'train_aug';
  const dir = findVocDir(spec.root);
  const listCandidates = [join(dir, 'ImageSets', 'Segmentation', `${spec.split}.txt`)];
  if (aug) listCandidates.push(join(dir, `${spec.split}.txt`), join(dir, 'SegmentationClassAug', `${spec.split}.txt`), join(spec.root, `${spec.split}.txt`));
  const list = firstExisting(listCandidates);
  if (!list) throw layoutError('voc', `the split list ${listCandidates.join(' or ')}`, LAYOUT);
  const labelDir = join(dir, aug ? 'SegmentationClassAug' : 'SegmentationClass');
  if (!isDir(labelDir)) throw layoutError('voc', `the label directory ${labelDir}`, LAYOUT);

  const items: FileItem[] = readIdList(list).map((id) => {
    const image = join(dir, 'JPEGImages', `${id}.jpg`);
    const label = join(labelDir, `${id}.png`);
    if (!isFile(image)) throw layoutError('voc', `the image ${image} (listed in ${list})`, LAYOUT);
    if (!isFile(label)) throw missingLabelError('voc', image, label);
    return { id, image, label };
  });
  if (items.length === 0) throw layoutError('voc', `at least one id in ${list}`, LAYOUT);
  return new FileDataset(
    { kind: 'voc', name: `voc2012/${spec.split}${aug ? ' (aug)' : ''}`, classNames: VOC_CLASSES, palette: VOC_PALETTE, items, lut: identityLut(21) },
    options,
  );
}
