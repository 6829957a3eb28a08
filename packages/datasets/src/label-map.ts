import { IGNORE_LABEL } from './types.js';
import type { LabelStats, DatasetListener } from './types.js';
import type { RawLabel } from './decode.js';

/** LUT entry for values that are neither a class nor a declared ignore value. */
export const OUT_OF_RANGE = 256;

/**
 * A lookup table from stored label values (0..255) to class ids: entries 0..numClasses-1 are classes,
 * 255 is ignore (by definition, not counted), OUT_OF_RANGE marks values that should not occur.
 */
export function buildLut(entries: Iterable<[number, number]>, ignoreValues: Iterable<number> = [IGNORE_LABEL]): Uint16Array {
  const lut = new Uint16Array(256).fill(OUT_OF_RANGE);
  for (const v of ignoreValues) lut[v] = IGNORE_LABEL;
  for (const [value, cls] of entries) lut[value] = cls;
  return lut;
}

/** The identity LUT for files that store class ids directly (0..numClasses-1, 255 ignore). */
export function identityLut(numClasses: number, ignoreValue = IGNORE_LABEL, firstClassValue = 0): Uint16Array {
  const entries: [number, number][] = [];
  for (let c = 0; c < numClasses; c++) entries.push([firstClassValue + c, c]);
  return buildLut(entries, [ignoreValue]);
}

export interface MappedLabel {
  label: Uint8Array;
  outOfRange: number;
  values: Map<number, number>;
}

/** Applies the LUT; out-of-range values become 255 and are counted per raw value. */
export function mapLabel(raw: RawLabel, lut: Uint16Array): MappedLabel {
  // Split the LUT into a byte table and an out-of-range flag table: the hot loop stays monomorphic and
  // takes the counting branch only for out-of-range pixels (rare in real data).
  const { table, flag } = expandLut(lut);
  const label = new Uint8Array(raw.data.length);
  const hist = raw.data instanceof Uint8Array ? map8(raw.data, table, flag, label) : map16(raw.data, table, flag, label);
  let outOfRange = 0;
  const values = new Map<number, number>();
  if (hist) {
    for (let v = 0; v < hist.length; v++) {
      if (hist[v]) {
        values.set(v, hist[v]!);
        outOfRange += hist[v]!;
      }
    }
  }
  return { label, outOfRange, values };
}

const expanded = new WeakMap<Uint16Array, { table: Uint8Array; flag: Uint8Array }>();

function expandLut(lut: Uint16Array): { table: Uint8Array; flag: Uint8Array } {
  let entry = expanded.get(lut);
  if (!entry) {
    entry = { table: new Uint8Array(65536).fill(IGNORE_LABEL), flag: new Uint8Array(65536).fill(1) };
    for (let v = 0; v < lut.length; v++) {
      if (lut[v] !== OUT_OF_RANGE) {
        entry.table[v] = lut[v]!;
        entry.flag[v] = 0;
      }
    }
    expanded.set(lut, entry);
  }
  return entry;
}

function map8(src: Uint8Array, table: Uint8Array, flag: Uint8Array, out: Uint8Array): Uint32Array | undefined {
  let hist: Uint32Array | undefined;
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    out[i] = table[v]!;
    if (flag[v]) (hist ??= new Uint32Array(256))[v]!++;
  }
  return hist;
}

function map16(src: Uint16Array, table: Uint8Array, flag: Uint8Array, out: Uint8Array): Uint32Array | undefined {
  let hist: Uint32Array | undefined;
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    out[i] = table[v]!;
    if (flag[v]) (hist ??= new Uint32Array(65536))[v]!++;
  }
  return hist;
}

/** Counts out-of-range labels once per sample and reports them as events. */
export class LabelStatsTracker {
  private readonly seen = new Set<string>();
  readonly stats: LabelStats = { samplesWithOutOfRange: 0, outOfRangePixels: 0, outOfRangeValues: {} };

  constructor(private readonly listener?: DatasetListener) {}

  record(id: string, file: string, mapped: MappedLabel): void {
    if (mapped.outOfRange === 0 || this.seen.has(id)) return;
    this.seen.add(id);
    this.stats.samplesWithOutOfRange++;
    this.stats.outOfRangePixels += mapped.outOfRange;
    for (const [v, n] of mapped.values) this.stats.outOfRangeValues[v] = (this.stats.outOfRangeValues[v] ?? 0) + n;
    this.listener?.({ type: 'label-out-of-range', id, file, pixels: mapped.outOfRange, values: [...mapped.values.keys()].sort((a, b) => a - b) });
  }
}
