import { cellEdges } from '@autodeeplab/genotype';
import type { TopLevelSpec } from 'vega-lite';
import { decodeCell, type EdgeStrength } from '../cell.js';
import { readMatrix, softmax, type MatrixLike } from '../numeric.js';
import { renderVegaLite } from './render.js';

export interface AlphaPlotOptions {
  ops: readonly string[];
  blocks: number;
  /** Outline the (edge, op) pairs the decoder keeps; default true. */
  markDecoded?: boolean;
  /** Strength measure used for the outline; default `softmax`. */
  strength?: EdgeStrength;
  title?: string;
}

/**
 * Heat map of softmax(α): one row per cell edge ("blockN ← input", in α's row order), one column per
 * op; each cell shows its weight, and the decoded choices are outlined.
 */
export async function plotAlphaHeatmap(alpha: MatrixLike, options: AlphaPlotOptions): Promise<string> {
  const { ops, blocks } = options;
  const edges = cellEdges(blocks);
  const rows = readMatrix(alpha, edges.length, ops.length, 'α');
  const label = (block: number, input: string) => `block${block} ← ${input}`;
  const values = edges.flatMap((e) => softmax(rows[e.index]!).map((w, k) => ({ edge: label(e.block, e.input), op: ops[k]!, weight: w })));
  const cell = options.markDecoded === false ? [] : decodeCell(rows, { ops, blocks, strength: options.strength ?? 'softmax' });
  const chosen = cell.flatMap((block, b) => block.map((br) => ({ edge: label(b + 1, br.input), op: br.op })));
  const max = Math.max(...values.map((v) => v.weight));
  const x = { field: 'op', type: 'nominal' as const, sort: [...ops], axis: { title: 'op', labelAngle: -35 } };
  const y = { field: 'edge', type: 'nominal' as const, sort: edges.map((e) => label(e.block, e.input)), axis: { title: 'edge (into ← from)' } };
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title ?? 'softmax(α) per edge; decoded branches outlined',
    width: { step: 62 },
    height: { step: 22 },
    layer: [
      {
        data: { values },
        mark: { type: 'rect' },
        encoding: {
          x,
          y,
          color: { field: 'weight', type: 'quantitative', scale: { scheme: 'blues', domain: [0, max] }, legend: { title: 'softmax(α)' } },
        },
      },
      {
        data: { values },
        mark: { type: 'text', fontSize: 9 },
        encoding: {
          x,
          y,
          text: { field: 'weight', type: 'quantitative', format: '.2f' },
          color: { condition: { test: `datum.weight > ${max * 0.6}`, value: 'white' }, value: '#222222' },
        },
      },
      {
        data: { values: chosen },
        mark: { type: 'rect', fill: null, stroke: '#d62728', strokeWidth: 2.5 },
        encoding: { x, y },
      },
    ],
  };
  return renderVegaLite(spec);
}
