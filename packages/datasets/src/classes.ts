/** Class names, colour palettes and id mappings of the supported datasets. */
import type { Color } from './types.js';

/** The PASCAL VOC colour map (bits of the index spread over R, G, B from the top bit down). */
export function vocColormap(count: number): Color[] {
  const out: Color[] = [];
  for (let i = 0; i < count; i++) {
    let r = 0;
    let g = 0;
    let b = 0;
    let c = i;
    for (let j = 0; j < 8; j++) {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
      c >>= 3;
    }
    out.push([r, g, b]);
  }
  return out;
}

export const CITYSCAPES_CLASSES = [
  'road',
  'sidewalk',
  'building',
  'wall',
  'fence',
  'pole',
  'traffic light',
  'traffic sign',
  'vegetation',
  'terrain',
  'sky',
  'person',
  'rider',
  'car',
  'truck',
  'bus',
  'train',
  'motorcycle',
  'bicycle',
] as const;

export const CITYSCAPES_PALETTE: readonly Color[] = [
  [128, 64, 128],
  [244, 35, 232],
  [70, 70, 70],
  [102, 102, 156],
  [190, 153, 153],
  [153, 153, 153],
  [250, 170, 30],
  [220, 220, 0],
  [107, 142, 35],
  [152, 251, 152],
  [70, 130, 180],
  [220, 20, 60],
  [255, 0, 0],
  [0, 0, 142],
  [0, 0, 70],
  [0, 60, 100],
  [0, 80, 100],
  [0, 0, 230],
  [119, 11, 32],
];

/** Raw Cityscapes label id → train id (Cityscapes' own label definitions); every other raw id is ignored. */
export const CITYSCAPES_ID_TO_TRAIN_ID: ReadonlyMap<number, number> = new Map([
  [7, 0],
  [8, 1],
  [11, 2],
  [12, 3],
  [13, 4],
  [17, 5],
  [19, 6],
  [20, 7],
  [21, 8],
  [22, 9],
  [23, 10],
  [24, 11],
  [25, 12],
  [26, 13],
  [27, 14],
  [28, 15],
  [31, 16],
  [32, 17],
  [33, 18],
]);

/** Raw ids that exist in Cityscapes (0..33; -1 "license plate" is stored as 255). */
export const CITYSCAPES_MAX_RAW_ID = 33;

export const VOC_CLASSES = [
  'background',
  'aeroplane',
  'bicycle',
  'bird',
  'boat',
  'bottle',
  'bus',
  'car',
  'cat',
  'chair',
  'cow',
  'diningtable',
  'dog',
  'horse',
  'motorbike',
  'person',
  'pottedplant',
  'sheep',
  'sofa',
  'train',
  'tvmonitor',
] as const;

export const VOC_PALETTE: readonly Color[] = vocColormap(21);

/** ADE20K SceneParsing: the first name of each objectInfo150.csv entry, in index order (1..150). */
export const ADE20K_CLASSES = [
  'wall',
  'building',
  'sky',
  'floor',
  'tree',
  'ceiling',
  'road',
  'bed',
  'windowpane',
  'grass',
  'cabinet',
  'sidewalk',
  'person',
  'earth',
  'door',
  'table',
  'mountain',
  'plant',
  'curtain',
  'chair',
  'car',
  'water',
  'painting',
  'sofa',
  'shelf',
  'house',
  'sea',
  'mirror',
  'rug',
  'field',
  'armchair',
  'seat',
  'fence',
  'desk',
  'rock',
  'wardrobe',
  'lamp',
  'bathtub',
  'railing',
  'cushion',
  'base',
  'box',
  'column',
  'signboard',
  'chest of drawers',
  'counter',
  'sand',
  'sink',
  'skyscraper',
  'fireplace',
  'refrigerator',
  'grandstand',
  'path',
  'stairs',
  'runway',
  'case',
  'pool table',
  'pillow',
  'screen door',
  'stairway',
  'river',
  'bridge',
  'bookcase',
  'blind',
  'coffee table',
  'toilet',
  'flower',
  'book',
  'hill',
  'bench',
  'countertop',
  'stove',
  'palm',
  'kitchen island',
  'computer',
  'swivel chair',
  'boat',
  'bar',
  'arcade machine',
  'hovel',
  'bus',
  'towel',
  'light',
  'truck',
  'tower',
  'chandelier',
  'awning',
  'streetlight',
  'booth',
  'television receiver',
  'airplane',
  'dirt track',
  'apparel',
  'pole',
  'land',
  'bannister',
  'escalator',
  'ottoman',
  'bottle',
  'buffet',
  'poster',
  'stage',
  'van',
  'ship',
  'fountain',
  'conveyer belt',
  'canopy',
  'washer',
  'plaything',
  'swimming pool',
  'stool',
  'barrel',
  'basket',
  'waterfall',
  'tent',
  'bag',
  'minibike',
  'cradle',
  'oven',
  'ball',
  'food',
  'step',
  'tank',
  'trade name',
  'microwave',
  'pot',
  'animal',
  'bicycle',
  'lake',
  'dishwasher',
  'screen',
  'blanket',
  'sculpture',
  'hood',
  'sconce',
  'vase',
  'traffic light',
  'tray',
  'ashcan',
  'fan',
  'pier',
  'crt screen',
  'plate',
  'monitor',
  'bulletin board',
  'shower',
  'radiator',
  'glass',
  'clock',
  'flag',
] as const;

/** (choice) ADE20K ships no palette of its own in the challenge data: the VOC colour map from index 1. */
export const ADE20K_PALETTE: readonly Color[] = vocColormap(151).slice(1);

/**
 * Class names from ADE20K's objectInfo150.csv (`Idx,Ratio,Train,Val,Name`; names like
 * "windowpane;window" keep their first alternative). Returns undefined when the file is malformed.
 */
export function parseObjectInfoCsv(text: string): string[] | undefined {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const header = parseCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  const idxCol = header.indexOf('idx');
  const nameCol = header.indexOf('name');
  if (idxCol < 0 || nameCol < 0) return undefined;
  const names: string[] = [];
  for (const line of lines.slice(1)) {
    const cells = parseCsvLine(line);
    const idx = Number(cells[idxCol]);
    const name = cells[nameCol]?.split(';')[0]?.trim();
    if (!Number.isInteger(idx) || idx < 1 || idx > 150 || !name) return undefined;
    names[idx - 1] = name;
  }
  if (names.length !== 150 || names.some((n) => n === undefined)) return undefined;
  return names;
}

function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cur);
      cur = '';
    } else cur += ch;
  }
  cells.push(cur);
  return cells;
}
