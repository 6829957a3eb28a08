import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStoreData } from './store-data.js';
import { isTrialStore } from './store-layout.js';
import { trialsChart } from './trials-chart.js';
import { buildStoreReport } from './write-store-report.js';

const TIME = '2026-01-01T00:00:00.000Z';
const EPOCHS = 3;
const start = { type: 'start', time: TIME, kind: 'search', runDir: 'r', epochs: EPOCHS, stepsPerEpoch: 1, totalSteps: EPOCHS, config: {} };
const epoch = (e: number) => ({ type: 'epoch', time: TIME, kind: 'search', epoch: e, step: e + 1, meanLoss: 1, seconds: 1 });
const validation = (e: number, mIoU: number) => ({
  type: 'validation',
  time: TIME,
  kind: 'search',
  epoch: e,
  step: e + 1,
  mIoU,
  pixelAccuracy: 0.5,
  perClassIoU: [mIoU],
  loss: 1,
  pixels: 10,
});
const done = { type: 'done', time: TIME, kind: 'search', epoch: EPOCHS - 1, step: EPOCHS, interrupted: false, seconds: 1 };
/** A search's metrics.jsonl with one validation per finished epoch, these mIoU values. */
const searchLines = (mIoUs: number[], finished: boolean) =>
  [start, ...mIoUs.flatMap((m, e) => [epoch(e), validation(e, m)]), ...(finished ? [done] : [])].map((e) => JSON.stringify(e)).join('\n') + '\n';

let root: string;
let store: string;

async function trial(id: string, metrics: string, configYaml?: string): Promise<string> {
  const dir = join(store, id);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'metrics.jsonl'), metrics);
  if (configYaml) await writeFile(join(dir, 'config.yaml'), configYaml);
  return dir;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'store-report-'));
  store = join(root, 'store');
  // seed-2 peaks highest (0.5) but ends lower: the rule looks at the last epoch only.
  await trial('seed-2', searchLines([0.2, 0.5, 0.3], true), 'seed: 2\n');
  // seed-3 and seed-10 tie at 0.4: the lower id wins, in numeric order (seed-3 before seed-10).
  const seed3 = await trial('seed-3', searchLines([0.4, 0.4, 0.4], true), 'seed: 3\n');
  await writeFile(join(seed3, 'report.html'), '<!doctype html>');
  await trial('seed-10_search.weightLr-0.01', searchLines([0.1, 0.2, 0.4], true), 'seed: 10\nsearch:\n  weightLr: 0.01\n');
  // Still running: a high first epoch, but no last-epoch validation, so not ranked.
  await trial('seed-4', searchLines([0.9], false), 'seed: 4\n');
  // Started but its start line not written yet: listed, with the reason.
  await trial('seed-5', '');
  await mkdir(join(store, 'notes'), { recursive: true });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a trials store report', () => {
  it('is told from a run directory and from a folder of nothing', async () => {
    expect(await isTrialStore(store)).toBe(true);
    expect(await isTrialStore(join(store, 'seed-2'))).toBe(false);
    expect(await isTrialStore(join(store, 'notes'))).toBe(false);
    expect(await isTrialStore(join(root, 'missing'))).toBe(false);
  });

  it('reads every trial, its curve and its last-epoch mIoU, and picks the best by the rule', async () => {
    const data = await readStoreData(store);
    expect(data.trials.map((t) => t.id)).toEqual(['seed-2', 'seed-3', 'seed-4', 'seed-5', 'seed-10_search.weightLr-0.01']);
    expect(data.best).toBe('seed-3');
    expect(data.rule).toMatch(/highest validation mIoU at the last search epoch/);
    const byId = new Map(data.trials.map((t) => [t.id, t]));
    expect(byId.get('seed-2')!.series).toEqual([
      { epoch: 1, mIoU: 0.2 },
      { epoch: 2, mIoU: 0.5 },
      { epoch: 3, mIoU: 0.3 },
    ]);
    expect(data.trials.map((t) => t.lastEpochMIoU)).toEqual([0.3, 0.4, null, null, 0.4]);
    expect(data.trials.map((t) => [t.seed, t.epochsDone, t.epochs, t.status?.state ?? null])).toEqual([
      [2, 3, 3, 'finished'],
      [3, 3, 3, 'finished'],
      [4, 1, 3, 'running'],
      [5, 0, null, null],
      [10, 3, 3, 'finished'],
    ]);
    expect(byId.get('seed-10_search.weightLr-0.01')!.point).toEqual({ 'search.weightLr': 0.01 });
    expect(byId.get('seed-2')!.point).toEqual({});
    expect(byId.get('seed-5')!.problem).toMatch(/no 'start' event yet/);
    expect(byId.get('seed-3')!.reportFile).toBe(join(store, 'seed-3', 'report.html'));
    expect(byId.get('seed-2')!.reportFile).toBeNull();
  });

  it('draws one series per trial with a validation and links trial reports relative to the page', async () => {
    const data = await readStoreData(store);
    const chart = trialsChart(data)!;
    const values = (chart.spec.data as { values: { trial: string; mIoU: number; best: boolean }[] }).values;
    expect([...new Set(values.map((v) => v.trial))]).toEqual(['seed-2', 'seed-3', 'seed-4', 'seed-10_search.weightLr-0.01']);
    expect(values.filter((v) => v.best).map((v) => v.trial)).toEqual(['seed-3', 'seed-3', 'seed-3']);

    const inStore = await buildStoreReport(data, store, TIME);
    expect(inStore).toContain('href="seed-3/report.html"');
    expect(inStore).toMatch(/<tr data-trial="seed-3" class="best" data-best="true">/);
    expect(inStore).toContain('<td data-metric="lastEpochMIoU" data-value="0.3">30.00%</td>');
    expect(inStore).toContain('search.weightLr=0.01');
    const elsewhere = await buildStoreReport(data, join(root, 'out'), TIME);
    expect(elsewhere).toContain('href="../store/seed-3/report.html"');
  });
});
