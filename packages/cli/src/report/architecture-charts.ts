import { TrellisTopology, cellEdges, type Scale } from '@autodeeplab/genotype';
import type { ArchitectureData, EpochArchitecture } from './architecture-data.js';
import type { ReportChart } from './metric-charts.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const PATH_COLOR = '#d62728';
const EDGE_COLOR = '#4c78a8';

/**
 * The signal the page's epoch slider sets: every architecture chart shows the epoch it names. Its
 * value at load is the last epoch.
 */
export const EPOCH_SIGNAL = 'epoch';
const onEpoch = { filter: `datum.epoch == ${EPOCH_SIGNAL}` };

function epochParam(epochs: EpochArchitecture[]) {
  return [{ name: EPOCH_SIGNAL, value: epochs.at(-1)!.epoch }];
}

/** Layers across (0 = the stem), log2 of the scale down, as in the paper's figure. */
function trellisEncoding(layers: number, scales: readonly Scale[]) {
  const y = (s: number) => Math.log2(s);
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    scale: { domain: [-0.4, layers + 0.4], nice: false, zero: false },
    axis: { title: 'layer', values: Array.from({ length: layers + 1 }, (_, i) => i), labelExpr: "datum.value == 0 ? 'stem' : datum.value", grid: false },
  };
  const yEnc = {
    field: 'y',
    type: 'quantitative' as const,
    scale: { domain: [y(scales[0]!) - 0.4, y(scales.at(-1)!) + 0.4], nice: false, zero: false, reverse: true },
    axis: { title: 'downsample rate', values: scales.map(y), labelExpr: "'s = ' + pow(2, datum.value)", grid: false },
  };
  return { x, y: yEnc, x2: { field: 'x2' }, y2: { field: 'y2' } };
}

function trellisRows(data: ArchitectureData) {
  const { layers, scales } = data.shape;
  const topology = new TrellisTopology(layers, scales);
  const y = (s: number) => Math.log2(s);
  const edges = data.epochs.flatMap((a) =>
    topology.edges.map((e) => ({
      epoch: a.epoch,
      x: e.layer,
      x2: e.layer + 1,
      y: y(e.from),
      y2: y(e.to),
      from: e.from,
      to: e.to,
      beta: a.beta?.[e.index] ?? null,
    })),
  );
  const path = data.epochs.flatMap((a) => {
    const full = [4, ...a.path];
    return a.path.map((s, l) => ({ epoch: a.epoch, x: l, x2: l + 1, y: y(full[l]!), y2: y(s) }));
  });
  const nodes = data.epochs.flatMap((a) => {
    const full = [4, ...a.path];
    const out: { epoch: number; x: number; y: number; scale: number; node: string }[] = [];
    for (let layer = 0; layer <= layers; layer++) {
      for (const s of topology.scalesAt(layer)) out.push({ epoch: a.epoch, x: layer, y: y(s), scale: s, node: full[layer] === s ? 'on the path' : 'other' });
    }
    return out;
  });
  return { edges, path, nodes };
}

/** The trellis of the epoch the slider picks: edges by normalised β, that epoch's path in red over the paths of all epochs (pale). */
export function trellisChart(data: ArchitectureData): ReportChart | null {
  if (data.epochs.length === 0) return null;
  const { layers, scales } = data.shape;
  const { edges, path, nodes } = trellisRows(data);
  const enc = trellisEncoding(layers, scales);
  const position = { x: enc.x, y: enc.y };
  // Where many epochs' paths overlap the shade deepens; fainter with more epochs, so it does not saturate.
  const historyOpacity = Math.max(0.03, Math.min(0.15, 1.5 / data.epochs.length));
  return {
    id: 'chart-trellis',
    title: 'Trellis and decoded path',
    caption:
      'Edges drawn by their normalised β at the chosen epoch; its decoded path (Viterbi) in red; the paths of all epochs in pale red show how the network level moved. Hover an edge for its β.',
    spec: {
      $schema: SCHEMA,
      width: Math.max(420, 60 * (layers + 1)),
      height: 70 * scales.length,
      params: epochParam(data.epochs),
      layer: [
        {
          data: { values: edges },
          transform: [onEpoch],
          mark: { type: 'rule', color: EDGE_COLOR, strokeCap: 'round' },
          encoding: {
            ...enc,
            strokeWidth: {
              field: 'beta',
              type: 'quantitative',
              scale: { domain: [0, 1], range: [0.3, 7] },
              legend: { title: 'normalised β', values: [0.1, 0.5, 0.9] },
            },
            // The same legend as the width (a legend: null here conflicts with the merged one).
            opacity: {
              field: 'beta',
              type: 'quantitative',
              scale: { domain: [0, 1], range: [0.15, 0.9] },
              legend: { title: 'normalised β', values: [0.1, 0.5, 0.9] },
            },
            tooltip: [
              { field: 'x', type: 'quantitative', title: 'from layer' },
              { field: 'from', type: 'quantitative', title: 'from s' },
              { field: 'to', type: 'quantitative', title: 'to s' },
              { field: 'beta', type: 'quantitative', title: 'normalised β', format: '.3f' },
            ],
          },
        },
        { data: { values: path }, mark: { type: 'rule', color: PATH_COLOR, strokeWidth: 7, opacity: historyOpacity, strokeCap: 'round' }, encoding: enc },
        { data: { values: path }, transform: [onEpoch], mark: { type: 'rule', color: PATH_COLOR, strokeWidth: 3, strokeCap: 'round' }, encoding: enc },
        {
          data: { values: nodes },
          transform: [onEpoch],
          mark: { type: 'point', filled: true, size: 70, stroke: 'white', strokeWidth: 1, opacity: 1 },
          encoding: {
            ...position,
            color: { field: 'node', type: 'nominal', scale: { domain: ['on the path', 'other'], range: [PATH_COLOR, '#555555'] }, legend: { title: 'node' } },
            tooltip: [
              { field: 'x', type: 'quantitative', title: 'layer' },
              { field: 'scale', type: 'quantitative', title: 's' },
            ],
          },
        },
      ],
    },
  };
}

/** softmax(α) of the epoch the slider picks, one row per cell edge, the branches its cell keeps outlined. */
export function alphaChart(data: ArchitectureData): ReportChart | null {
  const withAlpha = data.epochs.filter((a) => a.alpha !== null);
  if (withAlpha.length === 0) return null;
  const { ops, blocks } = data.shape;
  const edges = cellEdges(blocks);
  const label = (block: number, input: string) => `block${block} ← ${input}`;
  const values = withAlpha.flatMap((a) =>
    edges.flatMap((e) => a.alpha![e.index]!.map((weight, k) => ({ epoch: a.epoch, edge: label(e.block, e.input), op: ops[k]!, weight }))),
  );
  const chosen = withAlpha.flatMap((a) =>
    (a.cell ?? []).flatMap((block, b) => block.map((br) => ({ epoch: a.epoch, edge: label(b + 1, br.input), op: br.op }))),
  );
  // Colours span the weights' range: early in a search they all sit near 1/ops and would look alike from 0.
  const min = Math.min(...values.map((v) => v.weight));
  const max = Math.max(...values.map((v) => v.weight));
  const x = { field: 'op', type: 'nominal' as const, sort: [...ops], axis: { title: 'op', labelAngle: -35 } };
  const y = { field: 'edge', type: 'nominal' as const, sort: edges.map((e) => label(e.block, e.input)), axis: { title: 'edge (into ← from)' } };
  return {
    id: 'chart-alpha',
    title: 'softmax(α) per edge',
    caption: 'The weight of each candidate op on each edge of the cell at the chosen epoch; the two branches each block keeps are outlined in red.',
    spec: {
      $schema: SCHEMA,
      width: { step: 62 },
      height: { step: 20 },
      params: epochParam(withAlpha),
      layer: [
        {
          data: { values },
          transform: [onEpoch],
          mark: { type: 'rect' },
          encoding: {
            x,
            y,
            color: { field: 'weight', type: 'quantitative', scale: { scheme: 'blues', domain: [min, max] }, legend: { title: 'softmax(α)' } },
            tooltip: [
              { field: 'edge', type: 'nominal' },
              { field: 'op', type: 'nominal' },
              { field: 'weight', type: 'quantitative', format: '.4f', title: 'softmax(α)' },
            ],
          },
        },
        {
          data: { values },
          transform: [onEpoch],
          mark: { type: 'text', fontSize: 9 },
          encoding: {
            x,
            y,
            text: { field: 'weight', type: 'quantitative', format: '.3f' },
            color: { condition: { test: `datum.weight > ${min + (max - min) * 0.6}`, value: 'white' }, value: '#222222' },
          },
        },
        { data: { values: chosen }, transform: [onEpoch], mark: { type: 'rect', fill: null, stroke: PATH_COLOR, strokeWidth: 2.5 }, encoding: { x, y } },
      ],
    },
  };
}
