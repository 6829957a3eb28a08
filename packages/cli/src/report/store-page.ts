import { relative, sep } from 'node:path';
import { chartBlock, dataValue, escapeHtml, htmlDocument, percent, type PageData } from './html-page.js';
import type { ReportChart } from './metric-charts.js';
import type { StoreData, TrialRun } from './store-data.js';
import { pointText } from './trials-chart.js';
import type { VegaScripts } from './vega-scripts.js';

/** A link from the report's folder to a file, relative (the store opens from any machine that mounts it). */
export function relativeHref(fromDir: string, file: string): string {
  return relative(fromDir, file).split(sep).map(encodeURIComponent).join('/');
}

function stateCell(trial: TrialRun): string {
  if (trial.problem) return `<td data-state="unreadable" class="warning">unreadable: ${escapeHtml(trial.problem)}</td>`;
  const status = trial.status!;
  // A trial without a final event is running on a worker, or waits in the queue for one to resume it.
  const text = status.state === 'failed' ? `failed: ${status.message}` : status.state === 'running' ? 'running or waiting' : status.state;
  return `<td data-state="${status.state}">${escapeHtml(text)}</td>`;
}

function reportCell(trial: TrialRun, outDir: string): string {
  if (!trial.reportFile) return `<td class="hint">none yet (<code>autodeeplab report ${escapeHtml(trial.runDir)}</code>)</td>`;
  return `<td><a class="trial-report" href="${escapeHtml(relativeHref(outDir, trial.reportFile))}">report</a></td>`;
}

function trialsTable(data: StoreData, outDir: string): string {
  const rows = data.trials.map((t) => {
    const best = t.id === data.best;
    return `<tr data-trial="${escapeHtml(t.id)}"${best ? ' class="best" data-best="true"' : ''}>
<td>${escapeHtml(t.id)}${best ? ' <span class="best-mark" title="the best trial by the rule">★ best</span>' : ''}</td>
<td data-seed="${t.seed ?? ''}">${t.seed ?? '–'}</td><td>${escapeHtml(pointText(t.point))}</td>${stateCell(t)}
<td data-epochs-done="${t.epochsDone}">${t.epochsDone} / ${t.epochs ?? '?'}</td>
<td data-metric="lastEpochMIoU"${dataValue(t.lastEpochMIoU)}>${percent(t.lastEpochMIoU)}</td>${reportCell(t, outDir)}</tr>`;
  });
  return `<table id="trials" class="figures"><caption>Trials (${data.trials.length})</caption>
<tr><th>trial</th><th>seed</th><th>sweep point</th><th>state</th><th>epochs done</th><th>last-epoch validation mIoU</th><th>report</th></tr>
${rows.join('\n')}
</table>`;
}

function bestParagraph(data: StoreData): string {
  const best = data.trials.find((t) => t.id === data.best);
  if (!best) return `<p id="best-trial" data-trial="">No trial has a validation at its last epoch yet. Rule: ${escapeHtml(data.rule)}.</p>`;
  const point = Object.keys(best.point).length > 0 ? `, ${escapeHtml(pointText(best.point))}` : '';
  return `<p id="best-trial" data-trial="${escapeHtml(best.id)}">Best trial: <b>${escapeHtml(best.id)}</b> (seed ${best.seed ?? '–'}${point}),
validation mIoU ${percent(best.lastEpochMIoU)} at epoch ${best.epochs}. Rule: ${escapeHtml(data.rule)}, the same as <code>autodeeplab trials best</code>;
its architecture is <code>${escapeHtml(best.runDir)}/genotype.json</code>.</p>`;
}

/** The report of a trials store as one HTML file; `outDir` is where it is written (its links are relative to it). */
export function storePage(data: StoreData, chart: ReportChart | null, pageData: PageData, scripts: VegaScripts, generatedAt: string, outDir: string): string {
  const body = `<h1>autodeeplab trials report</h1>
<p class="meta">Store <code>${escapeHtml(data.storeDir)}</code> · ${data.trials.length} trial(s), read from their <code>metrics.jsonl</code> · generated ${escapeHtml(generatedAt)}
(regenerate with <code>autodeeplab report ${escapeHtml(data.storeDir)}</code>; <code>autodeeplab trials status</code> shows the queue)</p>
<section id="best"><h2>Best trial</h2>${bestParagraph(data)}</section>
<section id="curves"><h2>Validation per search epoch</h2>
${chart ? chartBlock(chart) : '<p>No trial has a validation yet (the search config needs a <code>val</code> dataset).</p>'}
</section>
<section id="trial-list"><h2>Trials</h2>${trialsTable(data, outDir)}</section>`;
  return htmlDocument({ title: `autodeeplab trials report: ${data.storeDir}`, bodyAttributes: ' data-kind="trials"', body, pageData, scripts });
}
