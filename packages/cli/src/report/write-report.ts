import { mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UserInputError, writeFileAtomic } from '@autodeeplab/core';
import { EPOCH_SIGNAL, alphaChart, trellisChart } from './architecture-charts.js';
import { cellChart } from './cell-chart.js';
import { reportPage, type PageData } from './html-page.js';
import { learningRateChart, lossChart, perClassChart, styledCharts, validationChart, type ReportChart } from './metric-charts.js';
import { readReportData, REPORT_FILE, type ReportData } from './report-data.js';

import { readVegaScripts } from './vega-scripts.js';

export interface WrittenReport {
  path: string;
  runDir: string;
  kind: ReportData['history']['kind'];
  status: ReportData['history']['status']['state'];
  /** The charts drawn, by id. */
  charts: string[];
  lastEpoch: ReportData['lastEpoch'];
  partialLastLine: boolean;
}

/** The charts a run's data gives, in page order. */
export function reportCharts(data: ReportData): ReportChart[] {
  const { history, architecture } = data;
  return styledCharts([
    lossChart(history),
    learningRateChart(history),
    validationChart(history),
    perClassChart(history, data.classNames),
    ...(architecture ? [trellisChart(architecture), alphaChart(architecture), cellChart(architecture)] : []),
  ]);
}

/** The report of a run as one self-contained HTML page. */
export async function buildReport(data: ReportData, generatedAt = new Date().toISOString()): Promise<string> {
  const charts = reportCharts(data);
  const epochCharts = ['chart-trellis', 'chart-alpha'].filter((id) => charts.some((c) => c.id === id));
  const pageData: PageData = {
    charts: charts.map((c) => ({ id: c.id, spec: c.spec })),
    epochSignal: EPOCH_SIGNAL,
    epochCharts,
    architectureEpochs: data.architecture?.epochs.map((a) => a.epoch) ?? [],
  };
  return reportPage(data, charts, pageData, await readVegaScripts(), generatedAt);
}

/** The report's folder, made if needed; a path through a file, or a report path that is a folder, is the user's to fix. */
export async function prepareOutput(path: string): Promise<void> {
  if ((await stat(path).catch(() => null))?.isDirectory())
    throw new UserInputError(`--out ${path} is a directory: expected the report's file name (e.g. report.html)`);
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new UserInputError(`--out ${path}: ${dirname(path)} cannot be made, a file is in the way`);
    throw error;
  }
}

/**
 * Reads a run directory as it is now (a run may still be writing it) and writes its report, atomically,
 * to `out` (default `<runDir>/report.html`).
 */
export async function writeReport(runDir: string, out?: string): Promise<WrittenReport> {
  const data = await readReportData(runDir);
  const path = resolve(out ?? join(data.runDir, REPORT_FILE));
  await prepareOutput(path);
  const html = await buildReport(data);
  await writeFileAtomic(path, html);
  return {
    path,
    runDir: data.runDir,
    kind: data.history.kind,
    status: data.history.status.state,
    charts: reportCharts(data).map((c) => c.id),
    lastEpoch: data.lastEpoch,
    partialLastLine: data.partialLastLine,
  };
}
