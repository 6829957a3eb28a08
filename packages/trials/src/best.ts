import { join } from 'node:path';
import { UserInputError } from '@autodeeplab/core';
import { METRICS_FILE } from '@autodeeplab/optim';
import { readMetricsEvents } from './metrics-follower.js';
import { compareTrialIds } from './plan.js';
import { listTrials, type TrialStatus } from './status.js';

/** A completed trial's standing under the rule. */
export interface RankedTrial {
  id: string;
  seed: number;
  point: Record<string, unknown>;
  runDir: string;
  /** Validation mIoU at the last epoch. */
  mIoU: number;
  epochs: number;
}

/** The rule `best` applies, in words (for the output and the docs). */
export const BEST_RULE = 'highest validation mIoU at the last search epoch (ties: the lower trial id)';

/** Orders trials by `BEST_RULE`, best first. */
export function compareByBestRule(a: { id: string; mIoU: number }, b: { id: string; mIoU: number }): number {
  return b.mIoU - a.mIoU || compareTrialIds(a.id, b.id);
}

/** The validation mIoU of the run's last epoch, read from its metrics.jsonl (the record); undefined if it has none. */
export async function lastEpochMIoU(runDir: string): Promise<{ mIoU: number; epochs: number } | undefined> {
  const events = await readMetricsEvents(join(runDir, METRICS_FILE));
  const epochs = events.filter((e) => e.type === 'start').at(-1)?.epochs;
  if (epochs === undefined) return undefined;
  const last = events.filter((e) => e.type === 'validation' && e.epoch === epochs - 1 && typeof e.mIoU === 'number').at(-1);
  return last ? { mIoU: last.mIoU!, epochs } : undefined;
}

/** The completed trials ranked by the rule, best first; trials without a last-epoch validation are left out. */
export async function rankTrials(options: { redis: string; store: string }): Promise<{ ranked: RankedTrial[]; unranked: TrialStatus[] }> {
  const trials = await listTrials({ redis: options.redis });
  const ranked: RankedTrial[] = [];
  const unranked: TrialStatus[] = [];
  for (const trial of trials.filter((t) => t.state === 'completed')) {
    const runDir = join(options.store, trial.id);
    const last = await lastEpochMIoU(runDir);
    if (last) ranked.push({ id: trial.id, seed: trial.seed, point: trial.point, runDir, ...last });
    else unranked.push(trial);
  }
  ranked.sort(compareByBestRule);
  return { ranked, unranked };
}

/** The best completed trial by `BEST_RULE`; a UserInputError when none has a last-epoch validation yet. */
export async function bestTrial(options: { redis: string; store: string }): Promise<RankedTrial> {
  const { ranked, unranked } = await rankTrials(options);
  if (ranked.length === 0) {
    const why =
      unranked.length > 0
        ? `${unranked.length} completed trial(s) have no validation at their last epoch (give the config a val dataset)`
        : 'no trial has completed yet';
    throw new UserInputError(`no best trial: ${why} (see autodeeplab trials status)`);
  }
  return ranked[0]!;
}
