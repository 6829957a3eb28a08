import { TrellisTopology, type Scale, type TrellisEdge } from '@autodeeplab/genotype';
import { blockChannels, cellChannels, stemChannels, type SearchSpaceConfig } from './config.js';

// The supernet's structure for a config, without tensors: what the `Supernet` constructor builds and
// what the cost estimates count.

/** One node of the trellis, with the widths of what feeds it. */
export interface TrellisNode {
  layer: number;
  scale: Scale;
  /** Block width F·s/4. */
  channels: number;
  /** The incoming trellis edges, each with the width of its source node. */
  incoming: { edge: TrellisEdge; inChannels: number }[];
  /** The width of node (layer − 2, scale) when it exists: the cell's prev_prev, projected. */
  prevPrevChannels: number | undefined;
  /**
   * What the cell reads as H^{l−2}: `node` — node (layer − 2, scale), projected; when that node does
   * not exist, per `missingPrevPrev`: `none` (dropped: the cell has no prev_prev edges) or `prev`
   * (each call's projected H^{l−1} substitutes).
   */
  prevPrevSource: PrevPrevSource;
}

/** Where a node's cell takes its H^{l−2} from (see `TrellisNode.prevPrevSource`). */
export type PrevPrevSource = 'node' | 'prev' | 'none';

/** The supernet's structure for a config: what the constructor builds, in order, and what cost estimates count. */
export interface TrellisPlan {
  topology: TrellisTopology;
  /** The two stem convs' widths. */
  stem: [number, number];
  nodes: TrellisNode[];
  /** One search head per node of the last layer. */
  heads: { scale: Scale; inChannels: number }[];
}

/** The structure walk of the supernet (layer by layer, scales in order); no tensor is made. */
export function planTrellis(config: SearchSpaceConfig): TrellisPlan {
  const topology = new TrellisTopology(config.layers, config.scales as Scale[]);
  const stem = stemChannels(config);
  const width = (layer: number, scale: Scale) => (layer === 0 ? stem[1] : cellChannels(config, scale));
  const nodes: TrellisNode[] = [];
  for (let layer = 1; layer <= config.layers; layer++) {
    for (const scale of topology.scalesAt(layer)) {
      const exists = topology.nodeExists(layer - 2, scale);
      nodes.push({
        layer,
        scale,
        channels: blockChannels(config, scale),
        incoming: topology.incoming(layer, scale).map((edge) => ({ edge, inChannels: width(edge.layer, edge.from) })),
        prevPrevChannels: exists ? width(layer - 2, scale) : undefined,
        prevPrevSource: exists ? 'node' : config.missingPrevPrev === 'drop' ? 'none' : 'prev',
      });
    }
  }
  const heads = topology.scalesAt(config.layers).map((scale) => ({ scale, inChannels: cellChannels(config, scale) }));
  return { topology, stem, nodes, heads };
}
