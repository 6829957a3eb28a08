import type { Block } from '@autodeeplab/genotype';
import type { TopLevelSpec } from 'vega-lite';
import { renderVegaLite } from './render.js';

export interface CellPlotOptions {
  title?: string;
}

const BOX_W = 96;
const BOX_H = 28;
const SPACING = 132;
/** Apex height of an arc per node it spans: arcs of different spans keep their labels apart. */
const ARC_STEP = 30;
const CONCAT_STEP = 14;
const MARGIN = 20;
const SAMPLES = 24;
const LABEL_FONT = 11;
/** Rough width of a character of an 11 px sans-serif label, to size the label's white background. */
const CHAR_W = 6.7;

interface Point {
  x: number;
  y: number;
}

/** Points of the quadratic Bézier P0 → P2 whose apex (t = ½) lies `height` above (or below, if negative) the chord. */
function arc(p0: Point, p2: Point, height: number): { points: Point[]; apex: Point; endAngle: number } {
  const c = { x: (p0.x + p2.x) / 2, y: (p0.y + p2.y) / 2 - 2 * height };
  const at = (t: number): Point => ({
    x: (1 - t) ** 2 * p0.x + 2 * t * (1 - t) * c.x + t ** 2 * p2.x,
    y: (1 - t) ** 2 * p0.y + 2 * t * (1 - t) * c.y + t ** 2 * p2.y,
  });
  const points = Array.from({ length: SAMPLES + 1 }, (_, k) => at(k / SAMPLES));
  // Tangent at the end is P2 − C; vega's triangle points up, angles run clockwise in screen space.
  const endAngle = (Math.atan2(p2.x - c.x, -(p2.y - c.y)) * 180) / Math.PI;
  return { points, apex: at(0.5), endAngle };
}

/** Spreads `count` attachment points over [from, to] of a box's top or bottom side. */
function slots(count: number, from: number, to: number): number[] {
  if (count === 1) return [(from + to) / 2];
  return Array.from({ length: count }, (_, k) => from + ((to - from) * k) / (count - 1));
}

/** Where everything of the cell's arc diagram goes, in pixels. */
function layoutCell(cell: readonly Block[]) {
  const ids = ['prev_prev', 'prev', ...cell.map((_, b) => `block${b + 1}`), 'output'];
  const position = new Map(ids.map((id, i) => [id, i]));
  const maxSpan = Math.max(...cell.flatMap((block, b) => block.map((br) => b + 2 - position.get(br.input)!)));
  const baseline = MARGIN + maxSpan * ARC_STEP + LABEL_FONT + BOX_H / 2;
  const xOf = (i: number) => MARGIN + BOX_W / 2 + i * SPACING;

  const branches = cell.flatMap((block, b) => block.map((br, k) => ({ from: position.get(br.input)!, to: b + 2, op: br.op, key: `b${b + 1}.${k}` })));
  // Attachment points on the top side: outgoing arcs on the right half (longest leftmost, so arcs
  // nest), incoming arcs on the left half (longest rightmost).
  const outX = new Map<string, number>();
  const inX = new Map<string, number>();
  ids.forEach((_, i) => {
    const outgoing = branches.filter((e) => e.from === i).sort((a, b) => b.to - a.to);
    slots(outgoing.length, 8, BOX_W / 2 - 10).forEach((dx, k) => outX.set(outgoing[k]!.key, xOf(i) + dx));
    const incoming = branches.filter((e) => e.to === i).sort((a, b) => a.from - b.from);
    slots(incoming.length, -BOX_W / 2 + 14, -10).forEach((dx, k) => inX.set(incoming[k]!.key, xOf(i) + dx));
  });
  const top = baseline - BOX_H / 2;
  const bottom = baseline + BOX_H / 2;
  const lines: { key: string; order: number; x: number; y: number; op: string }[] = [];
  const arrows: { x: number; y: number; angle: number; op: string }[] = [];
  const labels: { x: number; y: number; op: string; x1: number; x2: number; y1: number; y2: number }[] = [];
  for (const e of branches) {
    const p0 = { x: outX.get(e.key)!, y: top };
    const p2 = { x: inX.get(e.key)!, y: top };
    const { points, apex, endAngle } = arc(p0, p2, (e.to - e.from) * ARC_STEP);
    points.forEach((p, order) => lines.push({ key: e.key, order, ...p, op: e.op }));
    arrows.push({ x: p2.x, y: p2.y - 4, angle: endAngle, op: e.op });
    const half = (e.op.length * CHAR_W) / 2 + 3;
    labels.push({ x: apex.x, y: apex.y, op: e.op, x1: apex.x - half, x2: apex.x + half, y1: apex.y - 8, y2: apex.y + 8 });
  }
  const outputIndex = ids.length - 1;
  // Longer concat arcs run lower, so they land further right and do not cross the shorter ones.
  const concatIn = slots(cell.length, BOX_W / 2 - 10, -BOX_W / 2 + 10);
  const concat: { key: string; order: number; x: number; y: number }[] = [];
  const concatArrows: { x: number; y: number; angle: number }[] = [];
  cell.forEach((_, b) => {
    const p0 = { x: xOf(b + 2), y: bottom };
    const p2 = { x: xOf(outputIndex) + concatIn[b]!, y: bottom };
    const { points, endAngle } = arc(p0, p2, -(outputIndex - b - 2) * CONCAT_STEP - 6);
    points.forEach((p, order) => concat.push({ key: `c${b}`, order, ...p }));
    concatArrows.push({ x: p2.x, y: p2.y + 4, angle: endAngle });
  });
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
  const width = xOf(outputIndex) + BOX_W / 2 + MARGIN;
  const height = bottom + (cell.length - 1) * CONCAT_STEP + 6 + MARGIN;
  return { nodes, lines, arrows, labels, concat, concatArrows, width, height };
}

type CellLayout = ReturnType<typeof layoutCell>;

/** The vega-lite layers that draw a laid-out cell. */
function cellSpec({ nodes, lines, arrows, labels, concat, concatArrows, width, height }: CellLayout, title: string): TopLevelSpec {
  const px = (field: string) => ({ field, type: 'quantitative' as const, scale: null, axis: null });
  const opColor = {
    field: 'op',
    type: 'nominal' as const,
    scale: { scheme: 'dark2' },
    legend: { title: 'op', orient: 'bottom' as const, direction: 'horizontal' as const },
  };
  const angle = { field: 'angle', type: 'quantitative' as const, scale: null };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width,
    height,
    layer: [
      {
        data: { values: concat },
        mark: { type: 'line', color: '#9a9a9a', strokeDash: [4, 3], strokeWidth: 1.2 },
        encoding: { x: px('x'), y: px('y'), detail: { field: 'key' }, order: { field: 'order' } },
      },
      {
        data: { values: concatArrows },
        mark: { type: 'point', shape: 'triangle', filled: true, size: 40, color: '#9a9a9a', opacity: 1 },
        encoding: { x: px('x'), y: px('y'), angle },
      },
      {
        data: { values: lines },
        mark: { type: 'line', strokeWidth: 2 },
        encoding: { x: px('x'), y: px('y'), detail: { field: 'key' }, order: { field: 'order' }, color: opColor },
      },
      {
        data: { values: arrows },
        mark: { type: 'point', shape: 'triangle', filled: true, size: 60, opacity: 1 },
        encoding: { x: px('x'), y: px('y'), angle, color: { ...opColor, legend: null } },
      },
      {
        // A white plate under each label keeps it readable where another arc crosses it.
        data: { values: labels },
        mark: { type: 'rect', fill: 'white', opacity: 0.9, cornerRadius: 3 },
        encoding: { x: px('x1'), x2: { field: 'x2' }, y: px('y1'), y2: { field: 'y2' } },
      },
      {
        data: { values: labels },
        mark: { type: 'text', fontSize: LABEL_FONT, baseline: 'middle' },
        encoding: { x: px('x'), y: px('y'), text: { field: 'op' }, color: { ...opColor, legend: null } },
      },
      {
        data: { values: nodes },
        mark: { type: 'rect', cornerRadius: 6, stroke: '#333333', strokeWidth: 1 },
        encoding: {
          x: px('x1'),
          x2: { field: 'x2' },
          y: px('y1'),
          y2: { field: 'y2' },
          fill: {
            field: 'kind',
            type: 'nominal',
            scale: { domain: ['input', 'block', 'output'], range: ['#e8e8e8', '#fff3c4', '#d8ecd8'] },
            legend: null,
          },
        },
      },
      {
        data: { values: nodes },
        mark: { type: 'text', fontSize: 12, fontWeight: 'bold', color: '#222222', baseline: 'middle' },
        encoding: { x: px('x'), y: px('y'), text: { field: 'id' } },
      },
    ],
  };
}

/**
 * The decoded cell as a graph (SVG), drawn as an arc diagram: the nodes prev_prev, prev, block1..B
 * and output sit on one line in topological order; every branch is an arc above the line from its
 * input to its block, labelled and coloured by its op, with longer arcs higher so that labels do not
 * collide; dashed arcs below the line feed every block into the output (their concatenation).
 */
export async function plotCell(cell: readonly Block[], options: CellPlotOptions = {}): Promise<string> {
  return renderVegaLite(cellPlotSpec(cell, options));
}

/** The vega-lite spec `plotCell` renders, for a page that renders it itself (the run report). */
export function cellPlotSpec(cell: readonly Block[], options: CellPlotOptions = {}): TopLevelSpec {
  return cellSpec(layoutCell(cell), options.title ?? 'Decoded cell');
}
