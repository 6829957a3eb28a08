import { UserInputError } from '@autodeeplab/core';
import { SCALES, TrellisTopology, type Scale } from '@autodeeplab/genotype';
import type { TopLevelSpec } from 'vega-lite';
import type { VectorLike } from '../numeric.js';
import { normalizeBeta } from '../viterbi.js';
import { renderVegaLite } from './render.js';

export interface TrellisPlotOptions {
  layers: number;
  scales?: readonly Scale[];
  /** Optional title; default says what is drawn. */
  title?: string;
}

const PATH_COLOR = '#d62728';
const EDGE_COLOR = '#4c78a8';

/** Throws unless `path` is a walk through the trellis from the stem (s = 4). */
function checkPath(topology: TrellisTopology, path: readonly Scale[], layers: number, scales: readonly Scale[]): void {
  if (path.length !== layers) {
    throw new UserInputError(`plotTrellis: the path has ${path.length} layers, the trellis ${layers}`);
  }
  path.forEach((s, l) => {
    const from = l === 0 ? 4 : path[l - 1]!;
    if (!topology.edge(l, from, s)) {
      throw new UserInputError(`plotTrellis: path[${l}] = ${s} is not reachable from s = ${from} (scales [${scales.join(', ')}])`);
    }
  });
}

/** Edges (with their normalised β), the path's segments and the nodes, on axes layer × log2(s). */
function trellisData(topology: TrellisTopology, p: number[] | null, path: readonly Scale[], layers: number) {
  const y = (s: number) => Math.log2(s);
  const edges = topology.edges.map((e) => ({ x: e.layer, x2: e.layer + 1, y: y(e.from), y2: y(e.to), beta: p === null ? 0.5 : p[e.index]! }));
  const full = [4 as Scale, ...path];
  const pathSegments = path.map((s, l) => ({ x: l, x2: l + 1, y: y(full[l]!), y2: y(s) }));
  const nodes: { x: number; y: number; onPath: string }[] = [];
  for (let layer = 0; layer <= layers; layer++) {
    for (const s of topology.scalesAt(layer)) nodes.push({ x: layer, y: y(s), onPath: full[layer] === s ? 'path' : 'other' });
  }
  return { edges, pathSegments, nodes };
}

/** Layers across (0 = the stem), log2 of the scale down. */
function trellisAxes(layers: number, scales: readonly Scale[]) {
  const y = (s: number) => Math.log2(s);
  const minY = y(scales[0]!);
  const maxY = y(scales[scales.length - 1]!);
  const xScale = { domain: [-0.4, layers + 0.4], nice: false, zero: false };
  const yScale = { domain: [minY - 0.4, maxY + 0.4], nice: false, zero: false, reverse: true };
  const xAxis = {
    title: 'layer',
    values: Array.from({ length: layers + 1 }, (_, i) => i),
    labelExpr: "datum.value == 0 ? 'stem' : datum.value",
    grid: false,
  };
  const yAxis = {
    title: 'downsample rate',
    values: scales.map(y),
    labelExpr: "'s = ' + pow(2, datum.value)",
    grid: false,
  };
  return { xScale, yScale, xAxis, yAxis };
}

/**
 * The trellis as an SVG: layers across, scales down (s = 4 at the top, as in the paper's figure).
 * Every edge is drawn with width and opacity by its normalised β (uniform grey when β is null); the
 * decoded path is drawn over it in red.
 */
export async function plotTrellis(beta: VectorLike | null, path: readonly Scale[], options: TrellisPlotOptions): Promise<string> {
  const scales = options.scales ?? SCALES;
  const topology = new TrellisTopology(options.layers, scales);
  checkPath(topology, path, options.layers, scales);
  const p = beta === null ? null : normalizeBeta(beta, { layers: options.layers, scales });
  const { edges, pathSegments, nodes } = trellisData(topology, p, path, options.layers);
  const full = [4 as Scale, ...path];
  const { xScale, yScale, xAxis, yAxis } = trellisAxes(options.layers, scales);
  const probability = p === null ? null : path.reduce((acc, s, l) => acc * p[topology.edge(l, full[l]!, s)!.index]!, 1);
  const title = options.title ?? (p === null ? 'Decoded path' : `Trellis: edges by normalised β, decoded path in red (p = ${probability!.toExponential(3)})`);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: Math.max(420, 56 * (options.layers + 1)),
    height: 70 * scales.length,
    layer: [
      {
        data: { values: edges },
        mark: { type: 'rule', color: p === null ? '#bbbbbb' : EDGE_COLOR, strokeCap: 'round' },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: xScale, axis: xAxis },
          y: { field: 'y', type: 'quantitative', scale: yScale, axis: yAxis },
          x2: { field: 'x2' },
          y2: { field: 'y2' },
          ...(p === null
            ? {}
            : {
                strokeWidth: {
                  field: 'beta',
                  type: 'quantitative',
                  scale: { domain: [0, 1], range: [0.3, 7] },
                  legend: { title: 'normalised β', values: [0.1, 0.5, 0.9] },
                },
                opacity: { field: 'beta', type: 'quantitative', scale: { domain: [0, 1], range: [0.15, 0.9] }, legend: null },
              }),
        },
      },
      {
        data: { values: pathSegments },
        mark: { type: 'rule', color: PATH_COLOR, strokeWidth: 3, strokeCap: 'round' },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: xScale },
          y: { field: 'y', type: 'quantitative', scale: yScale },
          x2: { field: 'x2' },
          y2: { field: 'y2' },
        },
      },
      {
        data: { values: nodes },
        mark: { type: 'point', filled: true, size: 70, stroke: 'white', strokeWidth: 1, opacity: 1 },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: xScale },
          y: { field: 'y', type: 'quantitative', scale: yScale },
          color: {
            field: 'onPath',
            type: 'nominal',
            scale: { domain: ['path', 'other'], range: [PATH_COLOR, '#555555'] },
            legend: { title: 'node', labelExpr: "datum.value == 'path' ? 'on decoded path' : 'other'" },
          },
        },
      },
    ],
  };
  return renderVegaLite(spec);
}
