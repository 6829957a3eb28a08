import { UserInputError } from '@autodeeplab/core';
import { decodeImage, decodeLabel, inspectImage, type DecodeLabelOptions, type LabelKind } from './decode.js';
import { LabelStatsTracker, mapLabel } from './label-map.js';
import { IGNORE_LABEL } from './types.js';
import type { Color, Dataset, GetOptions, LabelStats, OpenOptions, Region, Sample } from './types.js';

export interface FileItem {
  id: string;
  image: string;
  label: string;
}

export interface FileDatasetInit {
  kind: string;
  name: string;
  classNames: readonly string[];
  palette: readonly Color[];
  items: readonly FileItem[];
  /** Stored label value → class id (see label-map.ts). */
  lut: Uint16Array;
  labelOptions?: DecodeLabelOptions;
}

/** A dataset of (image file, label file) pairs; the per-layout loaders only build the item list. */
export class FileDataset implements Dataset {
  readonly kind: string;
  readonly name: string;
  readonly classNames: readonly string[];
  readonly palette: readonly Color[];
  readonly ignoreLabel = IGNORE_LABEL;
  readonly numClasses: number;
  readonly ids: readonly string[];
  private readonly items: readonly FileItem[];
  private readonly lut: Uint16Array;
  private readonly labelOptions: DecodeLabelOptions;
  private readonly tracker: LabelStatsTracker;
  private readonly info = new Map<number, Promise<{ height: number; width: number; labelKind: LabelKind }>>();

  constructor(init: FileDatasetInit, options: OpenOptions = {}) {
    this.kind = init.kind;
    this.name = init.name;
    this.classNames = init.classNames;
    this.palette = init.palette;
    this.numClasses = init.classNames.length;
    this.items = init.items;
    this.ids = init.items.map((item) => item.id);
    this.lut = init.lut;
    this.labelOptions = init.labelOptions ?? {};
    this.tracker = new LabelStatsTracker(options.onEvent);
  }

  get size(): number {
    return this.items.length;
  }

  get stats(): LabelStats {
    return this.tracker.stats;
  }

  files(index: number): { image: string; label: string } {
    const item = this.item(index);
    return { image: item.image, label: item.label };
  }

  private item(index: number): FileItem {
    const item = this.items[index];
    if (!item) throw new RangeError(`${this.name}: sample index ${index} out of range 0..${this.items.length - 1}`);
    return item;
  }

  private sizeMismatch(item: FileItem, image: { height: number; width: number }, label: { height: number; width: number }): UserInputError {
    return new UserInputError(
      `${this.name}: image and label sizes differ for "${item.id}": ${item.image} is ${image.width}×${image.height}, ` +
        `${item.label} is ${label.width}×${label.height}`,
    );
  }

  /** Sizes (checked to agree) and the label decoder, from the file headers; cached per sample. */
  private inspect(index: number): Promise<{ height: number; width: number; labelKind: LabelKind }> {
    let info = this.info.get(index);
    if (!info) {
      const item = this.item(index);
      info = Promise.all([inspectImage(item.image), inspectImage(item.label, 'label')]).then(([image, label]) => {
        if (image.height !== label.height || image.width !== label.width) throw this.sizeMismatch(item, image, label);
        return { height: image.height, width: image.width, labelKind: label.labelKind };
      });
      info.catch(() => this.info.delete(index)); // retry after a failure (e.g. a file being copied)
      this.info.set(index, info);
    }
    return info;
  }

  /** From the file headers (cached): a region decode needs the size before decoding. */
  async imageSize(index: number): Promise<{ height: number; width: number }> {
    const { height, width } = await this.inspect(index);
    return { height, width };
  }

  async get(index: number, options: GetOptions = {}): Promise<Sample> {
    const item = this.item(index);
    let region: Region | undefined = options.region;
    const size = await this.inspect(index);
    if (region) {
      if (
        region.top < 0 ||
        region.left < 0 ||
        region.height < 1 ||
        region.width < 1 ||
        region.top + region.height > size.height ||
        region.left + region.width > size.width
      ) {
        throw new RangeError(`${this.name}: region ${JSON.stringify(region)} is outside "${item.id}" (${size.width}×${size.height})`);
      }
      if (region.top === 0 && region.left === 0 && region.height === size.height && region.width === size.width) region = undefined;
    }
    // Both decodes run concurrently on the thread pool.
    const [image, raw] = await Promise.all([
      decodeImage(item.image, region),
      decodeLabel(item.label, { ...this.labelOptions, kind: size.labelKind, ...(region ? { region } : {}) }),
    ]);
    if (image.height !== raw.height || image.width !== raw.width) throw this.sizeMismatch(item, image, raw);
    // Out-of-range counts of a region are partial; they are recorded once per sample id all the same.
    const mapped = mapLabel(raw, this.lut);
    this.tracker.record(item.id, item.label, mapped);
    return { id: item.id, index, image: image.data, label: mapped.label, height: image.height, width: image.width };
  }
}
