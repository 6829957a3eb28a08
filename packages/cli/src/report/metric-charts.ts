import type { TopLevelSpec } from 'vega-lite';
import type { StepEvent } from '@autodeeplab/optim';
import type { RunHistory } from './run-history.js';

/** A chart of the page: where it goes, its vega-lite spec with the data inline, and a line saying what it shows. */
export interface ReportChart {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
export const WIDTH = 560;
const HEIGHT = 240;

/** One look for every chart: white background, a font most machines have, no border around the plot. */
const CHART_CONFIG = {
  background: 'white',
  font: 'system-ui, DejaVu Sans, Liberation Sans, Arial, sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
};

/** The charts that exist, each with the common look. */
export function styledCharts(charts: (ReportChart | null)[]): ReportChart[] {
  return charts.filter((c): c is ReportChart => c !== null).map((c) => ({ ...c, spec: { ...c.spec, config: CHART_CONFIG } }));
}

/** Non-finite values (a diverged loss) are left out of the lines rather than drawn at ±∞. */
const finiteOrNull = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);

/** Click a legend entry to show that series alone; drag or wheel to zoom the steps. */
function seriesParams() {
  return [
    { name: 'shown', select: { type: 'point' as const, fields: ['series'] }, bind: 'legend' as const },
    { name: 'zoom', select: { type: 'interval' as const, encodings: ['x' as const] }, bind: 'scales' as const },
  ];
}

const seriesOpacity = { condition: { param: 'shown', value: 1 }, value: 0.15 };

/** More points than this per series are averaged in windows: a long run's page stays light and quick to draw. */
export const MAX_STEP_POINTS = 2000;

/**
 * The step series to draw: every step of a short run; for a long one, windows of consecutive steps,
 * each drawn at its last step with its mean loss (and its last learning rate).
 */
export function stepPoints(steps: StepEvent[], max = MAX_STEP_POINTS): { step: StepEvent; loss: number; archLoss: number | undefined }[] {
  const size = Math.ceil(steps.length / max);
  const out: { step: StepEvent; loss: number; archLoss: number | undefined }[] = [];
  for (let i = 0; i < steps.length; i += size) {
    const window = steps.slice(i, i + size);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const arch = window.flatMap((w) => (w.archLoss !== undefined ? [w.archLoss] : []));
    out.push({ step: window.at(-1)!, loss: mean(window.map((w) => w.loss)), archLoss: arch.length > 0 ? mean(arch) : undefined });
  }
  return out;
}

function windowNote(steps: number): string {
  const size = Math.ceil(steps / MAX_STEP_POINTS);
  return size > 1 ? ` Per-step series: means of ${size} consecutive steps.` : '';
}

export function lossChart(history: RunHistory): ReportChart | null {
  const rows: { step: number; epoch: number; series: string; loss: number | null }[] = [];
  for (const { step: s, loss, archLoss } of stepPoints(history.steps)) {
    rows.push({ step: s.step, epoch: s.epoch + 1, series: 'weight loss (step)', loss: finiteOrNull(loss) });
    if (archLoss !== undefined) rows.push({ step: s.step, epoch: s.epoch + 1, series: 'architecture loss (step)', loss: finiteOrNull(archLoss) });
  }
  for (const e of history.epochs) {
    rows.push({ step: e.step, epoch: e.epoch + 1, series: 'mean weight loss (epoch)', loss: finiteOrNull(e.meanLoss) });
    if (e.meanArchLoss !== undefined)
      rows.push({ step: e.step, epoch: e.epoch + 1, series: 'mean architecture loss (epoch)', loss: finiteOrNull(e.meanArchLoss) });
  }
  for (const v of history.validations) rows.push({ step: v.step, epoch: v.epoch + 1, series: 'validation loss', loss: finiteOrNull(v.loss) });
  if (rows.length === 0) return null;
  const perEpoch = "indexof(datum.series, '(step)') < 0";
  const encoding = {
    x: { field: 'step', type: 'quantitative' as const, axis: { tickMinStep: 1, format: 'd' } },
    y: { field: 'loss', type: 'quantitative' as const, scale: { zero: false } },
    color: { field: 'series', type: 'nominal' as const, legend: { orient: 'bottom' as const, columns: 3 } },
    opacity: seriesOpacity,
    tooltip: [
      { field: 'series', type: 'nominal' as const },
      { field: 'epoch', type: 'quantitative' as const },
      { field: 'step', type: 'quantitative' as const },
      { field: 'loss', type: 'quantitative' as const, format: '.4f' },
    ],
  };
  return {
    id: 'chart-loss',
    title: 'Loss',
    caption: `Cross-entropy per step and per epoch, and the validation loss. Hover for values; click a legend entry to isolate a series; drag to pan, wheel to zoom.${windowNote(history.steps.length)}`,
    spec: {
      $schema: SCHEMA,
      width: WIDTH,
      height: HEIGHT,
      data: { values: rows },
      layer: [
        { params: seriesParams(), mark: { type: 'line', strokeWidth: 1.5 }, encoding },
        { transform: [{ filter: perEpoch }], mark: { type: 'point', filled: true, size: 45 }, encoding },
      ],
    },
  };
}

export function learningRateChart(history: RunHistory): ReportChart | null {
  const rows = stepPoints(history.steps).flatMap(({ step: s }) => [
    { step: s.step, epoch: s.epoch + 1, series: 'weights', lr: s.learningRate.weights },
    ...(s.learningRate.arch !== undefined ? [{ step: s.step, epoch: s.epoch + 1, series: 'architecture (α, β)', lr: s.learningRate.arch }] : []),
  ]);
  if (rows.length === 0) return null;
  return {
    id: 'chart-lr',
    title: 'Learning rate',
    caption: 'The learning rate of each step (the schedule as it ran).',
    spec: {
      $schema: SCHEMA,
      width: WIDTH,
      height: 180,
      data: { values: rows },
      params: seriesParams(),
      mark: { type: 'line', strokeWidth: 1.5, point: rows.length <= 200 },
      encoding: {
        x: { field: 'step', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
        y: { field: 'lr', type: 'quantitative', title: 'learning rate' },
        color: { field: 'series', type: 'nominal', legend: { orient: 'bottom' } },
        opacity: seriesOpacity,
        tooltip: [
          { field: 'series', type: 'nominal' },
          { field: 'step', type: 'quantitative' },
          { field: 'lr', type: 'quantitative', format: '.6g', title: 'learning rate' },
        ],
      },
    },
  };
}

/** Whole epochs only: listed when few (a span of two would otherwise get a tick at 1.5), else spaced by vega. */
export function epochAxis(epochs: number[]) {
  return epochs.length <= 20 ? { values: epochs, format: 'd' } : { tickMinStep: 1, format: 'd' };
}

export function validationChart(history: RunHistory): ReportChart | null {
  const rows = history.validations.flatMap((v) => [
    { epoch: v.epoch + 1, metric: 'mIoU', value: finiteOrNull(v.mIoU) },
    { epoch: v.epoch + 1, metric: 'pixel accuracy', value: finiteOrNull(v.pixelAccuracy) },
  ]);
  if (rows.length === 0) return null;
  return {
    id: 'chart-validation',
    title: 'Validation',
    caption: 'Validation mIoU and pixel accuracy after each epoch.',
    spec: {
      $schema: SCHEMA,
      width: WIDTH,
      height: 200,
      data: { values: rows },
      mark: { type: 'line', point: { filled: true, size: 60 } },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: epochAxis(history.validations.map((v) => v.epoch + 1)), scale: { zero: false, nice: false } },
        y: { field: 'value', type: 'quantitative', axis: { format: '.0%' }, scale: { domain: [0, 1] }, title: null },
        color: { field: 'metric', type: 'nominal', legend: { orient: 'bottom' } },
        tooltip: [
          { field: 'metric', type: 'nominal' },
          { field: 'epoch', type: 'quantitative' },
          { field: 'value', type: 'quantitative', format: '.2%' },
        ],
      },
    },
  };
}

export function perClassChart(history: RunHistory, classNames: string[]): ReportChart | null {
  const last = history.validations.at(-1);
  if (!last) return null;
  const rows = last.perClassIoU.map((iou, index) => ({
    index,
    name: classNames[index] ?? `class ${index}`,
    iou: finiteOrNull(iou ?? undefined),
    labelAt: finiteOrNull(iou ?? undefined) ?? 0,
    label: iou === null ? 'absent' : finiteOrNull(iou) === null ? 'n/a' : `${(100 * iou).toFixed(1)}%`,
  }));
  const y = { field: 'name', type: 'nominal' as const, sort: rows.map((r) => r.name), title: null };
  return {
    id: 'chart-per-class',
    title: `Per-class IoU after epoch ${last.epoch + 1}`,
    caption: "IoU of each class on the validation set at the last validation ('absent': the class is in neither the labels nor the predictions).",
    spec: {
      $schema: SCHEMA,
      width: WIDTH - 80,
      height: { step: 18 },
      data: { values: rows },
      encoding: { y },
      layer: [
        {
          mark: { type: 'bar', color: '#4c78a8' },
          encoding: {
            x: { field: 'iou', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '.0%' }, title: 'IoU' },
            tooltip: [
              { field: 'name', type: 'nominal', title: 'class' },
              { field: 'label', type: 'nominal', title: 'IoU' },
            ],
          },
        },
        {
          mark: { type: 'text', align: 'left', dx: 4, fontSize: 10 },
          encoding: { x: { field: 'labelAt', type: 'quantitative' }, text: { field: 'label' }, color: { value: '#222222' } },
        },
      ],
    },
  };
}
