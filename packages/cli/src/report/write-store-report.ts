import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '@autodeeplab/core';
import type { PageData } from './html-page.js';
import { styledCharts } from './metric-charts.js';
import { REPORT_FILE } from './report-data.js';
import { readStoreData, type StoreData } from './store-data.js';
import { storePage } from './store-page.js';
import { trialsChart } from './trials-chart.js';
import { readVegaScripts } from './vega-scripts.js';
import { prepareOutput } from './write-report.js';

export interface WrittenStoreReport {
  path: string;
  storeDir: string;
  rule: string;
  best: string | null;
  charts: string[];
  trials: {
    id: string;
    seed: number | null;
    point: Record<string, unknown>;
    state: string;
    epochsDone: number;
    epochs: number | null;
    lastEpochMIoU: number | null;
    report: string | null;
  }[];
}

/** The report of a trials store as one self-contained HTML page, its links relative to `outDir`. */
export async function buildStoreReport(data: StoreData, outDir: string, generatedAt = new Date().toISOString()): Promise<string> {
  const [chart] = styledCharts([trialsChart(data)]);
  const pageData: PageData = { charts: chart ? [{ id: chart.id, spec: chart.spec }] : [], epochSignal: '', epochCharts: [], architectureEpochs: [] };
  return storePage(data, chart ?? null, pageData, await readVegaScripts(), generatedAt, outDir);
}

/**
 * Reads a trials store from its files (each trial's metrics.jsonl; no Redis) and writes its report,
 * atomically, to `out` (default `<store>/report.html`).
 */
export async function writeStoreReport(storeDir: string, out?: string): Promise<WrittenStoreReport> {
  const data = await readStoreData(storeDir);
  const path = resolve(out ?? join(data.storeDir, REPORT_FILE));
  await prepareOutput(path);
  await writeFileAtomic(path, await buildStoreReport(data, dirname(path)));
  return {
    path,
    storeDir: data.storeDir,
    rule: data.rule,
    best: data.best,
    charts: data.trials.some((t) => t.series.length > 0) ? ['chart-trials'] : [],
    trials: data.trials.map((t) => ({
      id: t.id,
      seed: t.seed,
      point: t.point,
      state: t.problem ? 'unreadable' : t.status!.state,
      epochsDone: t.epochsDone,
      epochs: t.epochs,
      lastEpochMIoU: t.lastEpochMIoU,
      report: t.reportFile,
    })),
  };
}
