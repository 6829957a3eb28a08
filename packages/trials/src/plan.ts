import { UserInputError } from '@autodeeplab/core';

/** One swept setting: a config field path (`search.weightLr`) and the values to try. */
export interface SweepAxis {
  key: string;
  values: readonly unknown[];
}

/** One trial of a study: its id (also its run directory's name), its seed and its sweep point. */
export interface TrialPoint {
  id: string;
  seed: number;
  /** Config field path → value, one entry per sweep axis. */
  point: Record<string, unknown>;
}

/** Fields a sweep may not set: the seed comes from `--seeds`, the run directory from the worker's store. */
const RESERVED_KEYS = new Set(['seed', 'runDir']);

/** A value as part of an id: letters, digits, `.` and `-` only (a file name and a BullMQ job id on every system). */
function idPart(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

/** The trial id of a seed at a sweep point: `seed-3`, `seed-3_search.weightLr-0.01`. */
function trialId(seed: number, point: Record<string, unknown>): string {
  return (
    `seed-${seed}` +
    Object.entries(point)
      .map(([key, value]) => `_${key}-${idPart(value)}`)
      .join('')
  );
}

/**
 * The seed and swept fields an id names (the inverse of `trialId` up to the values, which an id shortens
 * to letters and digits: read them from the run's config); null for an id `planTrials` does not make.
 */
export function parseTrialId(id: string): { seed: number; fields: { key: string; idValue: string }[] } | null {
  const match = /^seed-(\d+)((?:_[^_]+)*)$/.exec(id);
  if (!match) return null;
  const fields: { key: string; idValue: string }[] = [];
  for (const part of match[2]!.split('_').slice(1)) {
    const dash = part.indexOf('-');
    if (dash <= 0) return null;
    fields.push({ key: part.slice(0, dash), idValue: part.slice(dash + 1) });
  }
  return { seed: Number(match[1]), fields };
}

/** Trial ids in numeric order: seed-2 before seed-10. */
export function compareTrialIds(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * The trials of a study: every seed `firstSeed … firstSeed + seeds − 1` at every point of the sweep's
 * grid (the product of its axes). Ids are stable (`seed-3`, `seed-3_search.weightLr-0.01`), so that
 * enqueueing the same study twice adds nothing.
 */
export function planTrials(options: { seeds: number; firstSeed?: number; sweep?: readonly SweepAxis[] }): TrialPoint[] {
  const { seeds, firstSeed = 0, sweep = [] } = options;
  if (!Number.isInteger(seeds) || seeds < 1) throw new UserInputError(`--seeds must be a positive integer, found ${seeds}`);
  const seen = new Set<string>();
  for (const axis of sweep) {
    if (RESERVED_KEYS.has(axis.key))
      throw new UserInputError(`--sweep ${axis.key}: not sweepable (${axis.key === 'seed' ? 'use --seeds' : 'each trial gets <store>/<trial-id>'})`);
    if (seen.has(axis.key)) throw new UserInputError(`--sweep ${axis.key}: given twice; list all its values once (key=v1,v2)`);
    if (axis.values.length === 0) throw new UserInputError(`--sweep ${axis.key}: no values; expected key=v1,v2`);
    seen.add(axis.key);
  }
  let points: Record<string, unknown>[] = [{}];
  for (const axis of sweep) points = points.flatMap((point) => axis.values.map((value) => ({ ...point, [axis.key]: value })));
  const trials: TrialPoint[] = [];
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    for (const point of points) trials.push({ id: trialId(seed, point), seed, point });
  }
  const ids = new Set(trials.map((t) => t.id));
  if (ids.size !== trials.length)
    throw new UserInputError('--sweep: two values of one key give the same trial id; make the values differ in letters or digits');
  return trials;
}
