import { join, resolve } from 'node:path';
import { isUserInputError } from '@autodeeplab/core';
import { METRICS_FILE } from '@autodeeplab/optim';
import { BEST_RULE, compareByBestRule, lastEpochMIoU, parseTrialId } from '@autodeeplab/trials';
import { getPath } from '../config-file.js';
import { readRunConfig } from '../network-dir.js';
import { readMetricsFile } from './metrics-reader.js';
import { REPORT_FILE } from './report-data.js';
import { runHistory, type RunStatus } from './run-history.js';
import { exists, trialRunNames } from './store-layout.js';

/** One trial of a store, as its run directory tells. */
export interface TrialRun {
  /** The trial id: its run directory's name under the store. */
  id: string;
  runDir: string;
  /** From the run's config.yaml, else the id. */
  seed: number | null;
  /** Swept field path → value (from the run's config; the id names the fields); empty without a sweep. */
  point: Record<string, unknown>;
  /** Null when metrics.jsonl cannot be read as a run (see `problem`). */
  status: RunStatus | null;
  /** Epochs finished / planned. */
  epochsDone: number;
  epochs: number | null;
  /** Validation mIoU after each validated epoch (1-based), non-finite values left out: the trial's Fig. 4 curve. */
  series: { epoch: number; mIoU: number }[];
  /** The validation mIoU at the last planned epoch (what `trials best` ranks by); null before the trial gets there. */
  lastEpochMIoU: number | null;
  /** The trial's own report, when one was written (absolute path). */
  reportFile: string | null;
  /** Why the trial's metrics could not be read, if they could not. */
  problem: string | null;
}

/** Everything a store's report shows. */
export interface StoreData {
  storeDir: string;
  /** By id, in numeric order (seed-2 before seed-10). */
  trials: TrialRun[];
  /** The best trial's id by `rule`, null when no trial has a last-epoch validation yet. */
  best: string | null;
  rule: string;
}

/** The seed and sweep point of a trial: the id names the swept fields, the run's config holds their values. */
function pointOf(id: string, config: Record<string, unknown> | undefined): { seed: number | null; point: Record<string, unknown> } {
  const parsed = parseTrialId(id);
  const configSeed = typeof config?.seed === 'number' ? config.seed : null;
  const point: Record<string, unknown> = {};
  for (const { key, idValue } of parsed?.fields ?? []) point[key] = getPath(config, key) ?? idValue;
  return { seed: configSeed ?? parsed?.seed ?? null, point };
}

/** One trial's row and curve; a trial whose metrics cannot be read yet is listed with the reason. */
async function readTrial(storeDir: string, id: string): Promise<TrialRun> {
  const runDir = join(storeDir, id);
  // A config that cannot be read leaves the id to tell the seed and the swept fields.
  const { seed, point } = pointOf(id, await readRunConfig(runDir).catch(() => undefined));
  const reportFile = (await exists(join(runDir, REPORT_FILE))) ? join(runDir, REPORT_FILE) : null;
  const trial: TrialRun = { id, runDir, seed, point, status: null, epochsDone: 0, epochs: null, series: [], lastEpochMIoU: null, reportFile, problem: null };
  try {
    const history = runHistory((await readMetricsFile(join(runDir, METRICS_FILE))).events);
    trial.status = history.status;
    trial.epochs = history.start.epochs;
    trial.epochsDone = (history.epochs.at(-1)?.epoch ?? -1) + 1;
    trial.series = history.validations.filter((v) => Number.isFinite(v.mIoU)).map((v) => ({ epoch: v.epoch + 1, mIoU: v.mIoU }));
  } catch (error) {
    if (!isUserInputError(error)) throw error;
    trial.problem = error.message;
  }
  // The same reading of metrics.jsonl as `trials best`, so that the report marks the trial it picks.
  trial.lastEpochMIoU = (await lastEpochMIoU(runDir))?.mIoU ?? null;
  return trial;
}

/** The best trial by `BEST_RULE`: the highest last-epoch validation mIoU, ties to the lower id. */
export function bestOf(trials: TrialRun[]): string | null {
  const ranked = trials.flatMap((t) => (t.lastEpochMIoU === null ? [] : [{ id: t.id, mIoU: t.lastEpochMIoU }]));
  return ranked.sort(compareByBestRule)[0]?.id ?? null;
}

/** Reads a trials store from its files alone (no Redis): each `<store>/<trial-id>/metrics.jsonl` is the record. */
export async function readStoreData(dir: string): Promise<StoreData> {
  const storeDir = resolve(dir);
  const trials = await Promise.all((await trialRunNames(storeDir)).map((id) => readTrial(storeDir, id)));
  return { storeDir, trials, best: bestOf(trials), rule: BEST_RULE };
}
