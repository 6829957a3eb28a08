import type { Block } from '@autodeeplab/genotype';
import type { ArchitectureData } from './architecture-data.js';
import type { ReportChart } from './metric-charts.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const BOX_W = 92;
const BOX_H = 26;
const SPACING = 124;
/** Apex height of an arc per node it spans, so arcs of different spans keep their labels apart. */
const ARC_STEP = 28;
const MARGIN = 16;
const SAMPLES = 20;

interface Point {
  x: number;
  y: number;
}

/** Points of the quadratic Bézier from p0 to p2 whose apex lies `height` above the chord. */
function arcPoints(p0: Point, p2: Point, height: number): { points: Point[]; apex: Point } {
  const c = { x: (p0.x + p2.x) / 2, y: (p0.y + p2.y) / 2 - 2 * height };
  const at = (t: number): Point => ({
    x: (1 - t) ** 2 * p0.x + 2 * t * (1 - t) * c.x + t ** 2 * p2.x,
    y: (1 - t) ** 2 * p0.y + 2 * t * (1 - t) * c.y + t ** 2 * p2.y,
  });
  return { points: Array.from({ length: SAMPLES + 1 }, (_, k) => at(k / SAMPLES)), apex: at(0.5) };
}

/**
 * An arc diagram of the cell: prev_prev, prev, block1..B and output on one line; each branch an arc
 * above it from its input to its block, coloured and labelled by its op; dashed arcs below feed every
 * block into the output (their concatenation).
 */
function layoutCell(cell: readonly Block[]) {
  const ids = ['prev_prev', 'prev', ...cell.map((_, b) => `block${b + 1}`), 'output'];
  const position = new Map(ids.map((id, i) => [id, i]));
  const branches = cell.flatMap((block, b) => block.map((br, k) => ({ from: position.get(br.input) ?? 0, to: b + 2, op: br.op, key: `b${b + 1}.${k}` })));
  const maxSpan = Math.max(1, ...branches.map((e) => e.to - e.from));
  const baseline = MARGIN + maxSpan * ARC_STEP + BOX_H / 2 + 8;
  const xOf = (i: number) => MARGIN + BOX_W / 2 + i * SPACING;
  const top = baseline - BOX_H / 2;
  const bottom = baseline + BOX_H / 2;
  const lines: { key: string; order: number; x: number; y: number; op: string; branch: string }[] = [];
  const labels: { x: number; y: number; op: string; branch: string }[] = [];
  branches.forEach((e, n) => {
    // Leave on the right half of the source box, arrive on the left half of the target, spread a little.
    const p0 = { x: xOf(e.from) + 10 + (n % 3) * 8, y: top };
    const p2 = { x: xOf(e.to) - 12 - (n % 2) * 10, y: top };
    const { points, apex } = arcPoints(p0, p2, (e.to - e.from) * ARC_STEP);
    const branch = `${ids[e.from]} → ${ids[e.to]}`;
    points.forEach((p, order) => lines.push({ key: e.key, order, ...p, op: e.op, branch }));
    labels.push({ ...apex, op: e.op, branch });
  });
  const output = ids.length - 1;
  const concat = cell.flatMap((_, b) =>
    arcPoints({ x: xOf(b + 2), y: bottom }, { x: xOf(output) - 20 + 8 * b, y: bottom }, -(output - b - 2) * 10 - 6).points.map((p, order) => ({
      key: `c${b}`,
      order,
      ...p,
    })),
  );
  const nodes = ids.map((id, i) => ({
    id,
    kind: id === 'output' ? 'output' : id.startsWith('block') ? 'block' : 'input',
    x: xOf(i),
    y: baseline,
    x1: xOf(i) - BOX_W / 2,
    x2: xOf(i) + BOX_W / 2,
    y1: top,
    y2: bottom,
  }));
  return { nodes, lines, labels, concat, width: xOf(output) + BOX_W / 2 + MARGIN, height: bottom + cell.length * 10 + MARGIN };
}

/** The cell of the last epoch that decoded one (the search's final cell). */
export function cellChart(data: ArchitectureData): ReportChart | null {
  const last = data.epochs.findLast((a) => a.cell !== null);
  if (!last?.cell) return null;
  const { nodes, lines, labels, concat, width, height } = layoutCell(last.cell);
  const px = (field: string) => ({ field, type: 'quantitative' as const, scale: null, axis: null });
  const opColor = {
    field: 'op',
    type: 'nominal' as const,
    scale: { scheme: 'dark2' },
    legend: { title: 'op', orient: 'bottom' as const, direction: 'horizontal' as const },
  };
  const branchTooltip = [
    { field: 'branch', type: 'nominal' as const },
    { field: 'op', type: 'nominal' as const },
  ];
  return {
    id: 'chart-cell',
    title: `Final cell (epoch ${last.epoch})`,
    caption: "The decoded cell: each block sums two branches (arcs above, by op); the blocks' outputs are concatenated into the cell's output (dashed).",
    spec: {
      $schema: SCHEMA,
      width,
      height,
      layer: [
        {
          data: { values: concat },
          mark: { type: 'line', color: '#9a9a9a', strokeDash: [4, 3], strokeWidth: 1.2 },
          encoding: { x: px('x'), y: px('y'), detail: { field: 'key' }, order: { field: 'order' } },
        },
        {
          data: { values: lines },
          mark: { type: 'line', strokeWidth: 2 },
          encoding: { x: px('x'), y: px('y'), detail: { field: 'key' }, order: { field: 'order' }, color: opColor, tooltip: branchTooltip },
        },
        {
          data: { values: labels },
          mark: { type: 'text', fontSize: 11, baseline: 'middle', stroke: 'white', strokeWidth: 3, strokeOpacity: 0.9 },
          encoding: { x: px('x'), y: px('y'), text: { field: 'op' } },
        },
        {
          data: { values: labels },
          mark: { type: 'text', fontSize: 11, baseline: 'middle' },
          encoding: { x: px('x'), y: px('y'), text: { field: 'op' }, color: opColor, tooltip: branchTooltip },
        },
        {
          data: { values: nodes },
          mark: { type: 'rect', cornerRadius: 6, stroke: '#333333', strokeWidth: 1 },
          encoding: {
            x: px('x1'),
            x2: { field: 'x2' },
            y: px('y1'),
            y2: { field: 'y2' },
            fill: { field: 'kind', type: 'nominal', scale: { domain: ['input', 'block', 'output'], range: ['#e8e8e8', '#fff3c4', '#d8ecd8'] }, legend: null },
          },
        },
        {
          data: { values: nodes },
          mark: { type: 'text', fontSize: 12, fontWeight: 'bold', color: '#222222', baseline: 'middle' },
          encoding: { x: px('x'), y: px('y'), text: { field: 'id' } },
        },
      ],
    },
  };
}
