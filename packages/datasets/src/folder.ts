import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { FileFormatError, parseWithSchema, UserInputError } from '@autodeeplab/core';
import { vocColormap } from './classes.js';
import { FileDataset, type FileItem } from './file-dataset.js';
import { isDir, isFile, layoutError, missingLabelError, readIdList, sortedEntries } from './fs-util.js';
import { identityLut } from './label-map.js';
import type { Color, OpenOptions } from './types.js';

export const FolderSpecSchema = z.object({
  kind: z.literal('folder'),
  root: z.string().min(1),
  /** Reads <root>/splits/<split>.txt; without it every image in <root>/images/ is used. */
  split: z.string().min(1).optional(),
  /** Path of the class file; default <root>/classes.json. */
  classes: z.string().min(1).optional(),
});
export type FolderSpec = z.input<typeof FolderSpecSchema>;

const ColorSchema = z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)]);

/** <root>/classes.json of a custom dataset. */
export const ClassesFileSchema = z
  .object({
    version: z.literal(1).default(1),
    /** Class names in class-id order. */
    classes: z.array(z.string().min(1)).min(1).max(255),
    /** The mask value meaning "ignore" (mapped to 255). */
    ignoreValue: z.number().int().min(0).max(255).default(255),
    /** The mask value of class 0 (e.g. 1 when 0 means "unlabelled"); class k is firstClassValue + k. */
    firstClassValue: z.number().int().min(0).max(254).default(0),
    /** One [r, g, b] per class (for display; and for colour-coded masks). */
    palette: z.array(ColorSchema).optional(),
    /** 'index': mask pixels are values as above (grey or palette PNG); 'color': RGB masks in the palette's colours. */
    maskEncoding: z.enum(['index', 'color']).default('index'),
  })
  .superRefine((v, ctx) => {
    if (v.palette && v.palette.length !== v.classes.length) {
      ctx.addIssue({ code: 'custom', path: ['palette'], message: `expected ${v.classes.length} colours (one per class), found ${v.palette.length}` });
    }
    if (v.maskEncoding === 'color' && !v.palette) {
      ctx.addIssue({ code: 'custom', path: ['palette'], message: 'required when maskEncoding is "color"' });
    }
    const last = v.firstClassValue + v.classes.length - 1;
    if (v.maskEncoding === 'index' && last > 255) {
      ctx.addIssue({ code: 'custom', path: ['classes'], message: `class values ${v.firstClassValue}..${last} do not fit in 8 bits` });
    }
    if (v.maskEncoding === 'index' && v.ignoreValue >= v.firstClassValue && v.ignoreValue <= last) {
      ctx.addIssue({ code: 'custom', path: ['ignoreValue'], message: `${v.ignoreValue} is also a class value (${v.firstClassValue}..${last})` });
    }
  });
export type ClassesFile = z.input<typeof ClassesFileSchema>;

export const FOLDER_LAYOUT = `  <root>/classes.json        {"classes": ["background", "cat", …], "ignoreValue": 255, "palette": [[0,0,0], …]}
  <root>/images/<id>.jpg|.jpeg|.png
  <root>/masks/<id>.png      (one value per pixel: class id, or ignoreValue; palette PNGs give their indices)
  <root>/splits/<split>.txt  (optional: one id per line)`;

const IMAGE_EXT = ['.jpg', '.jpeg', '.png'];

export function openFolder(input: FolderSpec, options: OpenOptions = {}): FileDataset {
  const spec = FolderSpecSchema.parse(input);
  if (!isDir(spec.root)) throw layoutError('folder', `the dataset root ${spec.root}`, FOLDER_LAYOUT, spec.root);
  const classesPath = spec.classes ?? join(spec.root, 'classes.json');
  if (!isFile(classesPath)) throw layoutError('folder', `the class file ${classesPath}`, FOLDER_LAYOUT);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(classesPath, 'utf8'));
  } catch (error) {
    throw new FileFormatError(classesPath, `not valid JSON: ${(error as Error).message}`);
  }
  const classes = parseWithSchema(ClassesFileSchema, json, classesPath);
  const imageDir = join(spec.root, 'images');
  const maskDir = join(spec.root, 'masks');
  if (!isDir(imageDir)) throw layoutError('folder', `the directory ${imageDir}`, FOLDER_LAYOUT, imageDir);
  if (!isDir(maskDir)) throw layoutError('folder', `the directory ${maskDir}`, FOLDER_LAYOUT, maskDir);

  // id → image file, from the directory listing (flat) or the split list (ids may contain sub-folders).
  const findImage = (id: string) => IMAGE_EXT.map((ext) => join(imageDir, id + ext)).filter(isFile);
  let ids: string[];
  if (spec.split) {
    const list = join(spec.root, 'splits', `${spec.split}.txt`);
    if (!isFile(list)) throw layoutError('folder', `the split list ${list}`, FOLDER_LAYOUT);
    ids = readIdList(list);
  } else {
    const seen = new Set<string>();
    ids = [];
    for (const file of sortedEntries(imageDir)) {
      const ext = IMAGE_EXT.find((e) => file.toLowerCase().endsWith(e));
      if (!ext) continue;
      const id = file.slice(0, -ext.length);
      if (seen.has(id)) continue;
      seen.add(id);
      ids.push(id);
    }
  }
  const items: FileItem[] = ids.map((id) => {
    const found = findImage(id);
    if (found.length === 0) throw layoutError('folder', `an image images/${id}.jpg|.jpeg|.png under ${spec.root}`, FOLDER_LAYOUT);
    if (found.length > 1) throw new UserInputError(`folder: several images for id "${id}": ${found.join(', ')}; keep one`);
    const label = join(maskDir, `${id}.png`);
    if (!isFile(label)) throw missingLabelError('folder', found[0]!, label);
    return { id, image: found[0]!, label };
  });
  if (items.length === 0) throw layoutError('folder', `at least one image in ${imageDir}`, FOLDER_LAYOUT);

  const palette: readonly Color[] = classes.palette ?? vocColormap(classes.classes.length);
  const color = classes.maskEncoding === 'color';
  // Colour masks decode to palette indices, i.e. class ids directly.
  const lut = color ? identityLut(classes.classes.length) : identityLut(classes.classes.length, classes.ignoreValue, classes.firstClassValue);
  return new FileDataset(
    {
      kind: 'folder',
      name: `folder:${spec.root}${spec.split ? `/${spec.split}` : ''}`,
      classNames: classes.classes,
      palette,
      items,
      lut,
      ...(color ? { labelOptions: { colors: palette } } : {}),
    },
    options,
  );
}
