import { cellPlotSpec } from '@autodeeplab/decode';
import type { ArchitectureData } from './architecture-data.js';
import type { ReportChart } from './metric-charts.js';

/** The cell of the last epoch that decoded one (the search's final cell), drawn as decode's cell plot. */
export function cellChart(data: ArchitectureData): ReportChart | null {
  const last = data.epochs.findLast((a) => a.cell !== null);
  if (!last?.cell) return null;
  return {
    id: 'chart-cell',
    title: `Final cell (epoch ${last.epoch})`,
    caption: "The decoded cell: each block sums two branches (arcs above, by op); the blocks' outputs are concatenated into the cell's output (dashed).",
    spec: cellPlotSpec(last.cell, { title: '' }),
  };
}
