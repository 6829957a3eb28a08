export type Color = readonly [number, number, number];

/** The value every label uses for "ignore" (void, boundary, unlabelled) after mapping. */
export const IGNORE_LABEL = 255;

/** One decoded example: RGB image and per-pixel class ids (0..numClasses-1, or 255 = ignore). */
export interface Sample {
  id: string;
  /** Position in the dataset (0..size-1). */
  index: number;
  /** HWC RGB, 8-bit. */
  image: Uint8Array;
  /** HW class ids, 255 = ignore. */
  label: Uint8Array;
  height: number;
  width: number;
}

/** Label values found outside the class range (and not the ignore value): mapped to ignore and counted. */
export interface LabelStats {
  /** Samples (counted once each, however often they are read) that had such values. */
  samplesWithOutOfRange: number;
  /** Total such pixels over those samples. */
  outOfRangePixels: number;
  /** Raw values seen → pixel count. */
  outOfRangeValues: Record<number, number>;
}

export type DatasetEvent = {
  type: 'label-out-of-range';
  id: string;
  file: string;
  pixels: number;
  values: number[];
};

export type DatasetListener = (event: DatasetEvent) => void;

/** A window of a sample in pixels. */
export interface Region {
  top: number;
  left: number;
  height: number;
  width: number;
}

export interface GetOptions {
  /** Decode only this window (the batcher asks for the part a crop needs); the sample is that window. */
  region?: Region;
}

export interface Dataset {
  readonly kind: string;
  readonly name: string;
  readonly classNames: readonly string[];
  readonly palette: readonly Color[];
  readonly ignoreLabel: typeof IGNORE_LABEL;
  readonly numClasses: number;
  readonly size: number;
  /** Sample ids in dataset order. */
  readonly ids: readonly string[];
  get(index: number, options?: GetOptions): Promise<Sample>;
  /** Height and width of sample `index` without decoding pixels (checks image and label agree). */
  imageSize?(index: number): Promise<{ height: number; width: number }>;
  /** The files behind a sample, when there are files (for messages and tools). */
  files(index: number): { image: string; label: string } | undefined;
  readonly stats: LabelStats;
}

export interface OpenOptions {
  /** Receives dataset events (out-of-range labels); libraries never print. */
  onEvent?: DatasetListener;
}
