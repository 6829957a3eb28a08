import { z } from 'zod';
import { parseWithSchema } from '@autodeeplab/core';
import { Ade20kSpecSchema, openAde20k } from './ade20k.js';
import { CityscapesSpecSchema, openCityscapes } from './cityscapes.js';
import { FolderSpecSchema, openFolder } from './folder.js';
import { SyntheticDataset, SyntheticSpecSchema } from './synthetic.js';
import { VocSpecSchema, openVoc } from './voc.js';
import type { Dataset, OpenOptions } from './types.js';

export const DatasetSpecSchema = z.discriminatedUnion('kind', [CityscapesSpecSchema, VocSpecSchema, Ade20kSpecSchema, FolderSpecSchema, SyntheticSpecSchema]);
export type DatasetSpec = z.input<typeof DatasetSpecSchema>;

/**
 * Opens a dataset from a spec (validated: a bad spec is a FileFormatError naming the field). Lists the
 * files and checks the layout now; images are decoded lazily by `get(i)`.
 */
export function openDataset(spec: DatasetSpec, options: OpenOptions = {}): Dataset {
  const parsed = parseWithSchema(DatasetSpecSchema, spec, 'dataset spec');
  switch (parsed.kind) {
    case 'cityscapes':
      return openCityscapes(parsed, options);
    case 'voc':
      return openVoc(parsed, options);
    case 'ade20k':
      return openAde20k(parsed, options);
    case 'folder':
      return openFolder(parsed, options);
    case 'synthetic':
      return new SyntheticDataset(parsed);
  }
}
