import { UserInputError } from '@autodeeplab/core';
import { type Genotype, type Scale } from '@autodeeplab/genotype';
import type { NetworkConfig } from './config.js';

/** How a cell's scale relates to its predecessor's. */
export type Transition = 'down' | 'same' | 'up';

/** Channels and wiring of one cell, independent of the input size. */
export interface CellPlan {
  index: number;
  scale: Scale;
  transition: Transition;
  /** Block width f = F·s/4. */
  width: number;
  /** Concatenation of the blocks: B·f. */
  outChannels: number;
  /** Channels and downsample rate of H^{l−1} and H^{l−2} (the stem's outputs for the first cells). */
  prevChannels: number;
  prevScale: number;
  prevPrevChannels: number;
  prevPrevScale: number;
  /** H^{l−2} is projected by ReLU-1×1-BN when its channel count is not f. */
  projectPrevPrev: boolean;
}

export interface NetworkPlan {
  cells: CellPlan[];
  /** Index of the cell whose output feeds the decoder, or −1 for the stem output. */
  lowLevelCell: number;
  lowLevelChannels: number;
  /** Channels of the encoder output (last cell) that enter the ASPP. */
  encoderChannels: number;
}

/**
 * The network's structure from genotype + config: one source of truth shared by the modules, the
 * parameter count and the Multi-Adds count.
 */
export function planNetwork(genotype: Genotype, config: NetworkConfig): NetworkPlan {
  const F = config.filterMultiplier;
  const blocks = genotype.cell.length;
  const [, stem1, stem2] = config.stemFilters;
  // The stem outputs play H^{l−2}, H^{l−1} of the first cell: conv1 at s = 2, conv2 at s = 4 (official code).
  const states: { channels: number; scale: number }[] = [
    { channels: stem1, scale: 2 },
    { channels: stem2, scale: 4 },
  ];
  const cells: CellPlan[] = genotype.path.map((scale, index) => {
    const prev = states[states.length - 1]!;
    const prevPrev = states[states.length - 2]!;
    const width = (F * scale) / 4;
    if (!Number.isInteger(width)) throw new UserInputError(`filterMultiplier ${F} gives a non-integer block width at s=${scale}`);
    const transition: Transition = scale > prev.scale ? 'down' : scale < prev.scale ? 'up' : 'same';
    if ((transition === 'down' && scale !== prev.scale * 2) || (transition === 'up' && scale * 2 !== prev.scale)) {
      throw new UserInputError(`genotype path: layer ${index + 1} at s=${scale} cannot follow s=${prev.scale}`);
    }
    const cell: CellPlan = {
      index,
      scale,
      transition,
      width,
      outChannels: blocks * width,
      prevChannels: prev.channels,
      prevScale: prev.scale,
      prevPrevChannels: prevPrev.channels,
      prevPrevScale: prevPrev.scale,
      projectPrevPrev: prevPrev.channels !== width,
    };
    states.push({ channels: cell.outChannels, scale });
    return cell;
  });
  let lowLevelCell = -1;
  for (let i = 0; i <= Math.min(config.lowLevelCell, cells.length - 1); i++) if (cells[i]!.scale === 4) lowLevelCell = i;
  const last = cells[cells.length - 1]!;
  return {
    cells,
    lowLevelCell,
    lowLevelChannels: lowLevelCell < 0 ? stem2 : cells[lowLevelCell]!.outChannels,
    encoderChannels: last.outChannels,
  };
}

/**
 * Spatial size of a feature at downsample rate `scale` for an input dimension `n`: each stride-2
 * step (TensorFlow SAME) gives ceil(n/2), and ceil(ceil(n/2)/2) = ceil(n/4), so it is ceil(n/scale).
 * Going up a scale resizes to this same size, so down- and up-paths always agree (for 32k+1 inputs it
 * is also DeepLab's (n−1)·2+1 rule).
 */
export function sizeAtScale(n: number, scale: number): number {
  return Math.ceil(n / scale);
}

/** Spatial input size of a cell: the resolution its ops read (the finer one when going down). */
export function cellInputScale(cell: CellPlan): number {
  return cell.transition === 'down' ? cell.scale / 2 : cell.scale;
}

/** Whether a branch reading `input` in a cell that goes down uses stride 2. */
export function branchStride(cell: CellPlan, input: string): 1 | 2 {
  return cell.transition === 'down' && (input === 'prev' || input === 'prev_prev') ? 2 : 1;
}
