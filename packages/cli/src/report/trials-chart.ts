import { SCHEMA, WIDTH, epochAxis, type ReportChart } from './metric-charts.js';
import type { StoreData } from './store-data.js';

/** A sweep point in words: `search.weightLr=0.01, crop=[9,9]`, or '–' without a sweep. */
export function pointText(point: Record<string, unknown>): string {
  const entries = Object.entries(point);
  return entries.length === 0 ? '–' : entries.map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(', ');
}

/**
 * The paper's Fig. 4: validation mIoU per search epoch, one line per trial, the best trial's line
 * drawn heavier. Hover a point for its trial, seed and sweep point; click a legend entry to isolate a trial.
 */
export function trialsChart(data: StoreData): ReportChart | null {
  const rows = data.trials.flatMap((t) =>
    t.series.map(({ epoch, mIoU }) => ({ trial: t.id, seed: t.seed ?? '–', point: pointText(t.point), best: t.id === data.best, epoch, mIoU })),
  );
  if (rows.length === 0) return null;
  const epochs = [...new Set(rows.map((r) => r.epoch))].sort((a, b) => a - b);
  const tooltip = [
    { field: 'trial', type: 'nominal' as const },
    { field: 'seed', type: 'nominal' as const },
    { field: 'point', type: 'nominal' as const, title: 'sweep point' },
    { field: 'epoch', type: 'quantitative' as const },
    { field: 'mIoU', type: 'quantitative' as const, format: '.2%', title: 'validation mIoU' },
  ];
  return {
    id: 'chart-trials',
    title: 'Validation mIoU per search epoch, one line per trial',
    caption: `As the paper's Fig. 4. The heavier line is the best trial (${data.rule}). Hover a point for its trial, seed and sweep point; click a legend entry to isolate a trial.`,
    spec: {
      $schema: SCHEMA,
      width: WIDTH,
      height: 300,
      data: { values: rows },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: epochAxis(epochs), scale: { zero: false, nice: false }, title: 'search epoch' },
        y: { field: 'mIoU', type: 'quantitative', axis: { format: '.0%' }, scale: { zero: false }, title: 'validation mIoU' },
        color: { field: 'trial', type: 'nominal', sort: data.trials.map((t) => t.id), legend: { title: 'trial' } },
        opacity: { condition: { param: 'shown', value: 1 }, value: 0.15 },
        tooltip,
      },
      layer: [
        {
          params: [{ name: 'shown', select: { type: 'point', fields: ['trial'] }, bind: 'legend' }],
          mark: { type: 'line' },
          encoding: { strokeWidth: { condition: { test: 'datum.best', value: 3.5 }, value: 1.5 } },
        },
        { mark: { type: 'point', filled: true, size: 50 } },
      ],
    },
  };
}
