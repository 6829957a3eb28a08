import { join } from 'node:path';
import { z } from 'zod';
import { CITYSCAPES_CLASSES, CITYSCAPES_ID_TO_TRAIN_ID, CITYSCAPES_MAX_RAW_ID, CITYSCAPES_PALETTE } from './classes.js';
import { FileDataset, type FileItem } from './file-dataset.js';
import { isDir, isFile, missingLabelError, requireDir, sortedEntries, layoutError } from './fs-util.js';
import { buildLut, identityLut } from './label-map.js';
import type { OpenOptions } from './types.js';

export const CityscapesSpecSchema = z.object({
  kind: z.literal('cityscapes'),
  /** The folder holding leftImg8bit/ and gtFine/ (and gtCoarse/). */
  root: z.string().min(1),
  split: z.string().min(1).default('train'),
  /** Coarse annotations (gtCoarse/, splits train, train_extra, val) instead of gtFine/. */
  coarse: z.boolean().default(false),
  /** 'auto': `_labelTrainIds.png` when every one is present, else raw `_labelIds.png` mapped to train ids. */
  labelFormat: z.enum(['auto', 'labelIds', 'labelTrainIds']).default('auto'),
});
export type CityscapesSpec = z.input<typeof CityscapesSpecSchema>;

const LAYOUT = `  <root>/leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png
  <root>/gtFine/<split>/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png      (or _labelTrainIds.png)
  <root>/gtCoarse/<split>/<city>/<city>_<seq>_<frame>_gtCoarse_labelIds.png  (coarse: true; splits train, train_extra, val)`;

export function openCityscapes(input: CityscapesSpec, options: OpenOptions = {}): FileDataset {
  const spec = CityscapesSpecSchema.parse(input);
  const gt = spec.coarse ? 'gtCoarse' : 'gtFine';
  const imageDir = join(spec.root, 'leftImg8bit', spec.split);
  const labelDir = join(spec.root, gt, spec.split);
  if (!isDir(spec.root)) throw layoutError('cityscapes', `the dataset root ${spec.root}`, LAYOUT, spec.root);
  requireDir('cityscapes', imageDir, LAYOUT);
  requireDir('cityscapes', labelDir, LAYOUT);

  const bases: { id: string; image: string; base: string; city: string }[] = [];
  for (const city of sortedEntries(imageDir)) {
    const cityDir = join(imageDir, city);
    if (!isDir(cityDir)) continue;
    for (const file of sortedEntries(cityDir)) {
      if (!file.endsWith('_leftImg8bit.png')) continue;
      const base = file.slice(0, -'_leftImg8bit.png'.length);
      bases.push({ id: `${city}/${base}`, image: join(cityDir, file), base, city });
    }
  }
  if (bases.length === 0) throw layoutError('cityscapes', `*_leftImg8bit.png images under ${imageDir}/<city>/`, LAYOUT);

  const labelPath = (b: (typeof bases)[number], kind: 'labelIds' | 'labelTrainIds') => join(labelDir, b.city, `${b.base}_${gt}_${kind}.png`);
  const format = spec.labelFormat !== 'auto' ? spec.labelFormat : bases.every((b) => isFile(labelPath(b, 'labelTrainIds'))) ? 'labelTrainIds' : 'labelIds';
  const items: FileItem[] = bases.map((b) => {
    const label = labelPath(b, format);
    if (!isFile(label)) throw missingLabelError('cityscapes', b.image, label);
    return { id: b.id, image: b.image, label };
  });

  const lut =
    format === 'labelTrainIds'
      ? identityLut(CITYSCAPES_CLASSES.length)
      : buildLut(
          CITYSCAPES_ID_TO_TRAIN_ID,
          // Raw ids that exist but are not trained on (and 255, the stored -1) are ignored by definition.
          [...Array.from({ length: CITYSCAPES_MAX_RAW_ID + 1 }, (_, i) => i).filter((i) => !CITYSCAPES_ID_TO_TRAIN_ID.has(i)), 255],
        );
  return new FileDataset(
    {
      kind: 'cityscapes',
      name: `cityscapes/${spec.coarse ? 'coarse' : 'fine'}/${spec.split}`,
      classNames: CITYSCAPES_CLASSES,
      palette: CITYSCAPES_PALETTE,
      items,
      lut,
    },
    options,
  );
}
