import { UserInputError } from '@autodeeplab/core';
import { SCALES, TrellisTopology, type Scale } from '@autodeeplab/genotype';
import { readVector, softmax, type VectorLike } from './numeric.js';

export interface TrellisShape {
  /** Cell layers L (the stem is layer 0). */
  layers: number;
  /** Scales of the trellis, starting at 4 and doubling; default [4, 8, 16, 32]. */
  scales?: readonly Scale[];
}

export interface ViterbiResult {
  /** One scale per cell layer 1..L. */
  path: Scale[];
  /** Product of the normalised β along the path. */
  probability: number;
}

function topologyOf(shape: TrellisShape): TrellisTopology {
  try {
    return new TrellisTopology(shape.layers, shape.scales ?? SCALES);
  } catch (error) {
    throw new UserInputError(`invalid trellis: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Normalised β in plain float64: for every node the softmax of its outgoing logits (paper Eq. 7–8),
 * the same as `TrellisTopology.normalizeBeta` without tensors.
 */
export function normalizeBeta(beta: VectorLike, shape: TrellisShape): number[] {
  const topology = topologyOf(shape);
  const logits = readVector(beta, topology.betaSize, `β (one logit per trellis edge, ${shape.layers} layers)`);
  const out = new Array<number>(logits.length).fill(0);
  for (let layer = 0; layer < topology.layers; layer++) {
    for (const scale of topology.scalesAt(layer)) {
      const group = topology.outgoing(layer, scale);
      const probabilities = softmax(group.map((e) => logits[e.index]!));
      group.forEach((e, k) => (out[e.index] = probabilities[k]!));
    }
  }
  return out;
}

/** Scores within this much (log domain) count as a tie, so exact ties do not hang on rounding. */
const TIE = 1e-12;

/**
 * The path of maximal probability through the trellis (paper §4.3): β logits are normalised by the
 * outgoing softmax and read as transition probabilities; the path starts at the stem (layer 0, s = 4),
 * takes one scale per cell layer 1..L, and ends wherever it scores best. States no path reaches are
 * masked (−∞). Runs in log space; on a tie (within 1e-12 in log probability) the smaller scale wins,
 * both for the predecessor of a state and for the end state.
 */
export function viterbi(beta: VectorLike, shape: TrellisShape): ViterbiResult {
  const topology = topologyOf(shape);
  const scales = topology.scales;
  const p = normalizeBeta(beta, shape);
  const n = scales.length;
  // score[i]: best log probability of reaching scale i at the current layer (−∞ may still be
  // reachable when a probability underflows, hence the separate mask); back[l][i]: predecessor.
  let score = scales.map((s) => (s === 4 ? 0 : -Infinity));
  let reached = scales.map((s) => s === 4);
  const back: number[][] = [];
  for (let layer = 1; layer <= topology.layers; layer++) {
    const next = new Array<number>(n).fill(-Infinity);
    const from = new Array<number>(n).fill(-1);
    for (let i = 0; i < n; i++) {
      for (let j = Math.max(0, i - 1); j <= Math.min(n - 1, i + 1); j++) {
        if (!reached[j]) continue;
        const edge = topology.edge(layer - 1, scales[j]!, scales[i]!);
        if (!edge) continue;
        const candidate = score[j]! + Math.log(p[edge.index]!);
        // j ascends, so a later (larger) source replaces only when clearly better.
        if (from[i]! < 0 || candidate > next[i]! + TIE) {
          next[i] = candidate;
          from[i] = j;
        }
      }
    }
    back.push(from);
    score = next;
    reached = from.map((j) => j >= 0);
  }
  let end = -1;
  score.forEach((x, i) => {
    if (!reached[i]) return;
    if (end < 0 || x > score[end]! + TIE) end = i;
  });
  const indices: number[] = [end];
  for (let layer = topology.layers; layer > 1; layer--) indices.unshift(back[layer - 1]![indices[0]!]!);
  const path = indices.map((i) => scales[i]!);
  let probability = 1;
  let previous: Scale = 4;
  path.forEach((scale, l) => {
    probability *= p[topology.edge(l, previous, scale)!.index]!;
    previous = scale;
  });
  return { path, probability };
}
