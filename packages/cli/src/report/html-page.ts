import type { EpochArchitecture } from './architecture-data.js';
import type { ReportChart } from './metric-charts.js';
import { PAGE_SCRIPT } from './page-script.js';
import type { LastEpoch, ReportData } from './report-data.js';
import type { RunStatus } from './run-history.js';
import type { VegaScripts } from './vega-scripts.js';

/** What the page's script reads (a JSON island in the page). */
export interface PageData {
  charts: { id: string; spec: ReportChart['spec'] }[];
  epochSignal: string;
  /** The charts the epoch slider drives. */
  epochCharts: string[];
  /** The epochs (1-based) the slider steps through. */
  architectureEpochs: number[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Script text safe inside a <script> element: no '</script' ends it early ('<\\/' means '</' in a JS string or regex). */
export function scriptSafe(text: string): string {
  return text.replace(/<\/script/gi, '<\\/script');
}

/** JSON safe inside a <script> element: every '<' written as its escape, which JSON.parse reads back. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export const percent = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(2)}%`);
const fixed = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(4));
/** A number as a data attribute: String(x) reads back to the same double. */
export const dataValue = (x: number | null | undefined) => (x === null || x === undefined ? '' : ` data-value="${String(x)}"`);

export function statusText(status: RunStatus): string {
  if (status.state === 'failed') return `failed: ${status.message}`;
  if (status.state === 'running') return 'running (or stopped without a final event; --resume continues it)';
  return status.state;
}

function lastEpochTable(last: LastEpoch | null): string {
  if (!last) return '<p id="last-epoch" data-epoch="">No epoch has finished yet.</p>';
  const v = last.validation;
  const row = (metric: string, label: string, value: number | null | undefined, show: (x: number | null | undefined) => string) =>
    `<tr><th>${label}</th><td data-metric="${metric}"${dataValue(value)}>${show(value)}</td></tr>`;
  return `<table id="last-epoch" class="figures" data-epoch="${last.epoch}">
<caption>Epoch ${last.epoch} (the last)</caption>
${row('meanLoss', 'mean weight loss', last.meanLoss, fixed)}
${last.meanArchLoss !== null ? row('meanArchLoss', 'mean architecture loss', last.meanArchLoss, fixed) : ''}
${row('mIoU', 'validation mIoU', v?.mIoU, percent)}
${row('pixelAccuracy', 'validation pixel accuracy', v?.pixelAccuracy, percent)}
${row('validationLoss', 'validation loss', v?.loss, fixed)}
</table>`;
}

function perClassTable(last: LastEpoch | null, classNames: string[]): string {
  const perClass = last?.validation?.perClassIoU;
  if (!perClass) return '';
  const rows = perClass.map(
    (iou, i) =>
      `<tr data-class-index="${i}"${iou === null ? ' data-absent="true"' : ` data-iou="${String(iou)}"`}><td>${i}</td><td>${escapeHtml(classNames[i] ?? `class ${i}`)}</td><td>${iou === null ? 'absent' : percent(iou)}</td></tr>`,
  );
  return `<table id="per-class-iou" class="figures"><caption>Per-class IoU, epoch ${last!.epoch}</caption>
<tr><th>#</th><th>class</th><th>IoU</th></tr>
${rows.join('\n')}
</table>`;
}

function cellText(epoch: EpochArchitecture): string {
  return epoch.cell ? epoch.cell.map((block, b) => `block${b + 1} = ${block.map((br) => `${br.op}(${br.input})`).join(' + ')}`).join('; ') : '–';
}

function architectureHistory(epochs: EpochArchitecture[]): string {
  const rows = epochs.map((a, i) => {
    const previous = epochs[i - 1]?.cell;
    const changed = previous && a.cell ? a.cell.flat().filter((br, k) => JSON.stringify(br) !== JSON.stringify(previous.flat()[k])).length : null;
    const p = a.pathProbability === null ? '–' : a.pathProbability.toExponential(3);
    return `<tr data-epoch="${a.epoch}" data-path="${a.path.join(' ')}"><td>${a.epoch}</td><td>${a.path.join(' → ')}</td><td>${p}</td><td>${changed ?? '–'}</td><td class="cell-text" title="${escapeHtml(cellText(a))}">${escapeHtml(cellText(a))}${a.decodeError ? ` <span class="warning">(the search's decoder: ${escapeHtml(a.decodeError)})</span>` : ''}</td></tr>`;
  });
  return `<table id="architecture-history" class="figures"><caption>The decoded architecture after each epoch</caption>
<tr><th>epoch</th><th>path (s per layer)</th><th>p(path)</th><th>branches changed</th><th>cell</th></tr>
${rows.join('\n')}
</table>`;
}

export function chartBlock(chart: ReportChart | undefined): string {
  if (!chart) return '';
  return `<figure><figcaption><b>${escapeHtml(chart.title)}</b> — ${escapeHtml(chart.caption)}</figcaption><div class="chart" id="${chart.id}"></div></figure>`;
}

function architectureSection(data: ReportData, charts: Map<string, ReportChart>): string {
  const arch = data.architecture;
  if (data.history.kind !== 'search') return '';
  if (!arch || arch.epochs.length === 0)
    return '<section id="architecture"><h2>Architecture</h2><p>No architecture snapshot yet (one is logged after each epoch).</p></section>';
  const last = arch.epochs.length - 1;
  return `<section id="architecture"><h2>Architecture</h2>
<p class="slider"><label for="epoch-slider">Epoch <output id="epoch-value">${arch.epochs[last]!.epoch}</output></label>
<input type="range" id="epoch-slider" min="0" max="${last}" step="1" value="${last}"${last === 0 ? ' disabled' : ''}>
<span class="hint">moves the trellis and the α heat map through the epochs</span></p>
${chartBlock(charts.get('chart-trellis'))}
${architectureHistory(arch.epochs)}
${chartBlock(charts.get('chart-alpha'))}
${chartBlock(charts.get('chart-cell'))}
</section>`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, 'DejaVu Sans', Arial, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1em 2em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
.meta { color: #555; } .meta code { color: #222; } .warning { color: #a15c00; }
figure { margin: 1em 0 1.5em; } figcaption { margin-bottom: 0.4em; color: #444; max-width: 900px; }
table.figures { border-collapse: collapse; margin: 0.8em 0; } table.figures caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; }
table.figures td, table.figures th { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; }
td[data-metric], td:nth-child(3) { font-variant-numeric: tabular-nums; }
#architecture-history tr.selected { background: #fde8e8; } .cell-text { max-width: 520px; font-size: 12px; color: #444; }
.slider input { width: 320px; vertical-align: middle; margin: 0 1em; } .hint { color: #777; font-size: 12px; }
pre { background: #f6f6f6; padding: 0.8em; overflow: auto; max-height: 480px; font-size: 12px; }
#trials tr.best { background: #e8f4e8; } .best-mark { color: #2a7d2a; font-weight: bold; }
#tooltip { position: fixed; z-index: 10; background: rgba(255,255,255,0.96); border: 1px solid #bbb; border-radius: 4px; padding: 4px 8px; font-size: 12px; pointer-events: none; box-shadow: 0 1px 4px rgba(0,0,0,0.15); }
`;

/** What every report page has around its body: the styles, vega and vega-lite, the data island and the page script. */
export interface HtmlDocument {
  title: string;
  /** Attributes of <body>, already escaped (e.g. ` data-kind="search"`). */
  bodyAttributes: string;
  body: string;
  pageData: PageData;
  scripts: VegaScripts;
}

/** One self-contained HTML file: styles, vega, vega-lite, the page script and the data all inline. */
export function htmlDocument(page: HtmlDocument): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title><style>${STYLE}</style></head>
<body${page.bodyAttributes}>
${page.body}
<div id="tooltip" hidden></div>
<script>${scriptSafe(page.scripts.vega)}</script>
<script>${scriptSafe(page.scripts.vegaLite)}</script>
<script type="application/json" id="report-data">${jsonForScript(page.pageData)}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

/** The report of one run as a whole HTML file. */
export function reportPage(data: ReportData, charts: ReportChart[], pageData: PageData, scripts: VegaScripts, generatedAt: string): string {
  const byId = new Map(charts.map((c) => [c.id, c]));
  const h = data.history;
  const body = `<h1>autodeeplab ${h.kind} report</h1>
<p class="meta">Run directory <code>${escapeHtml(data.runDir)}</code> · <span id="run-status">${escapeHtml(statusText(h.status))}</span> ·
step <span id="steps-done">${h.stepsDone}</span> of ${h.start.totalSteps} (${h.start.epochs} epochs) · last event ${escapeHtml(h.lastEventTime)} · generated ${escapeHtml(generatedAt)}
(regenerate with <code>autodeeplab report ${escapeHtml(data.runDir)}</code>)</p>
${data.partialLastLine ? '<p class="warning" id="partial-line">The last line of metrics.jsonl was still being written; it is left out.</p>' : ''}
<section id="summary"><h2>Summary</h2>${lastEpochTable(data.lastEpoch)}</section>
<section id="training"><h2>Training curves</h2>
${chartBlock(byId.get('chart-loss'))}${chartBlock(byId.get('chart-lr'))}${chartBlock(byId.get('chart-validation'))}
${byId.has('chart-validation') ? '' : '<p>No validation yet (set <code>val</code> in the config, or <code>--val-split</code> for train).</p>'}
${chartBlock(byId.get('chart-per-class'))}${perClassTable(data.lastEpoch, data.classNames)}
</section>
${architectureSection(data, byId)}
<section id="config"><h2>Config</h2><p class="meta">From <code>${escapeHtml(data.configSource)}</code></p><pre id="run-config">${escapeHtml(data.configText)}</pre></section>`;
  return htmlDocument({
    title: `autodeeplab ${h.kind} report: ${data.runDir}`,
    bodyAttributes: ` data-kind="${h.kind}" data-status="${h.status.state}"`,
    body,
    pageData,
    scripts,
  });
}
