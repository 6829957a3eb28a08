import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, beforeAll } from 'vitest';
import { initBackend, Rng, UserInputError } from '@autodeeplab/core';
import { TrellisTopology, type Scale } from '@autodeeplab/genotype';
import { normalizeBeta, viterbi } from './index.js';

/*
 * Independent reference: the β layout, the outgoing softmax and the path enumeration are written out
 * here by hand on plain numbers (scale indices 0..n−1), without the package's code or core's topology.
 */

interface HandEdge {
  layer: number;
  from: number;
  to: number;
}

/** β order: layer by layer, node by node (small scale first), each node's edges down, same, up. */
function handLayout(layers: number, n: number): HandEdge[] {
  const out: HandEdge[] = [];
  for (let layer = 0; layer < layers; layer++) {
    for (let i = 0; i <= Math.min(layer, n - 1); i++) {
      if (i + 1 < n) out.push({ layer, from: i, to: i + 1 });
      out.push({ layer, from: i, to: i });
      if (i > 0) out.push({ layer, from: i, to: i - 1 });
    }
  }
  return out;
}

/** p[layer][from][to]: exp(β_e) / Σ over the edges leaving the same node exp(β_e'). */
function handProbabilities(beta: number[], layers: number, n: number): Map<string, number> {
  const layout = handLayout(layers, n);
  const probabilities = new Map<string, number>();
  layout.forEach((e, k) => {
    let sum = 0;
    layout.forEach((g, m) => {
      if (g.layer === e.layer && g.from === e.from) sum += Math.exp(beta[m]!);
    });
    probabilities.set(`${e.layer}:${e.from}:${e.to}`, Math.exp(beta[k]!) / sum);
  });
  return probabilities;
}

/** Every path from the stem (index 0) with one index per layer 1..L, moving at most one scale. */
function allPaths(layers: number, n: number): number[][] {
  let paths: number[][] = [[0]];
  for (let l = 1; l <= layers; l++) {
    const next: number[][] = [];
    for (const p of paths) {
      const last = p[p.length - 1]!;
      for (const j of [last - 1, last, last + 1]) if (j >= 0 && j < n) next.push([...p, j]);
    }
    paths = next;
  }
  return paths.map((p) => p.slice(1));
}

function pathProbability(path: readonly number[], p: Map<string, number>): number {
  let product = 1;
  let previous = 0;
  path.forEach((i, l) => {
    product *= p.get(`${l}:${previous}:${i}`)!;
    previous = i;
  });
  return product;
}

/** The enumeration, with the transition probabilities in a flat table for speed on ~10⁵ paths. */
interface Enumeration {
  layers: number;
  n: number;
  paths: number[][];
}

function enumerate(layers: number, n: number): Enumeration {
  return { layers, n, paths: allPaths(layers, n) };
}

/** Best and second-best path probabilities over every path. */
function bruteForce(beta: number[], { layers, n, paths }: Enumeration) {
  const p = handProbabilities(beta, layers, n);
  const table = new Float64Array(layers * n * n);
  for (const [key, value] of p) {
    const [l, from, to] = key.split(':').map(Number) as [number, number, number];
    table[(l * n + from) * n + to] = value;
  }
  let best = -1;
  let second = -1;
  let argmax: number[] = [];
  for (const path of paths) {
    let product = 1;
    let previous = 0;
    for (let l = 0; l < layers; l++) {
      const i = path[l]!;
      product *= table[(l * n + previous) * n + i]!;
      previous = i;
    }
    if (product > best) {
      second = best;
      best = product;
      argmax = path;
    } else if (product > second) {
      second = product;
    }
  }
  return { best, second, argmax, p };
}

const SCALE_SETS: Scale[][] = [[4], [4, 8], [4, 8, 16], [4, 8, 16, 32]];

function expectViterbiEqualsBruteForce(beta: number[], scales: Scale[], enumeration: Enumeration) {
  const { layers } = enumeration;
  const { best, second, argmax, p } = bruteForce(beta, enumeration);
  const result = viterbi(beta, { layers, scales });
  expect(result.path).toHaveLength(layers);
  const indices = result.path.map((s) => scales.indexOf(s));
  // The returned path is a real path and its probability is the brute-force maximum.
  expect(indices.every((i) => i >= 0)).toBe(true);
  const own = pathProbability(indices, p);
  expect(Math.abs(own - best)).toBeLessThanOrEqual(1e-12 * best);
  expect(Math.abs(result.probability - best)).toBeLessThanOrEqual(1e-12 * best);
  if (best - second > 1e-9 * best) expect(indices).toEqual(argmax);
}

describe('viterbi', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('the hand-written β layout is core’s TrellisTopology order', () => {
    for (const scales of SCALE_SETS) {
      for (const layers of [1, 2, 3, 5, 12]) {
        const topology = new TrellisTopology(layers, scales);
        const mine = handLayout(layers, scales.length).map((e) => [e.layer, scales[e.from], scales[e.to]]);
        expect(topology.edges.map((e) => [e.layer, e.from, e.to])).toEqual(mine);
      }
    }
  });

  it('plain normalisation equals TrellisTopology.normalizeBeta and the hand softmax', () => {
    const rng = new Rng(7);
    for (const scales of SCALE_SETS) {
      const layers = 6;
      const topology = new TrellisTopology(layers, scales);
      const beta = Array.from({ length: topology.betaSize }, () => rng.normal() * 2);
      const plain = normalizeBeta(beta, { layers, scales });
      const tensor = tf.tidy(() => topology.normalizeBeta(tf.tensor1d(beta)).arraySync());
      plain.forEach((x, i) => expect(x).toBeCloseTo(tensor[i]!, 6));
      const hand = handProbabilities(beta, layers, scales.length);
      handLayout(layers, scales.length).forEach((e, i) => {
        expect(plain[i]).toBeCloseTo(hand.get(`${e.layer}:${e.from}:${e.to}`)!, 14);
      });
    }
  });

  it('equals brute-force enumeration on 1200 random β for L ≤ 8 and several scale sets', () => {
    const rng = new Rng(11);
    let count = 0;
    for (let trial = 0; trial < 1200; trial++) {
      const scales = SCALE_SETS[trial % SCALE_SETS.length]!;
      const layers = 1 + (Math.floor(trial / SCALE_SETS.length) % 8);
      const size = handLayout(layers, scales.length).length;
      const std = [0.05, 1, 4][trial % 3]!;
      const beta = Array.from({ length: size }, () => rng.normal() * std);
      expectViterbiEqualsBruteForce(beta, scales, enumerate(layers, scales.length));
      count++;
    }
    expect(count).toBe(1200);
  });

  it('equals brute-force enumeration on 1000 random β for L = 12, scales {4, 8, 16}', () => {
    const rng = new Rng(12);
    const scales: Scale[] = [4, 8, 16];
    const enumeration = enumerate(12, 3);
    const size = handLayout(12, 3).length;
    for (let trial = 0; trial < 1000; trial++) {
      const std = [0.05, 1, 4][trial % 3]!;
      const beta = Array.from({ length: size }, () => rng.normal() * std);
      expectViterbiEqualsBruteForce(beta, scales, enumeration);
    }
  });

  it('equals brute force for L = 12 with all four scales (fewer tensors: ~10⁵ paths each)', () => {
    const rng = new Rng(13);
    const scales: Scale[] = [4, 8, 16, 32];
    const enumeration = enumerate(12, 4);
    const size = handLayout(12, 4).length;
    for (let trial = 0; trial < 10; trial++) {
      expectViterbiEqualsBruteForce(
        Array.from({ length: size }, () => rng.normal()),
        scales,
        enumeration,
      );
    }
  });

  it('breaks ties towards the smaller scale, from the end state backwards', () => {
    const rng = new Rng(5);
    for (const scales of SCALE_SETS) {
      for (const layers of [1, 2, 4, 7]) {
        const size = handLayout(layers, scales.length).length;
        for (const beta of [new Array(size).fill(0), Array.from({ length: size }, () => rng.int(2))]) {
          const p = handProbabilities(beta, layers, scales.length);
          const scored = allPaths(layers, scales.length).map((path) => ({ path, probability: pathProbability(path, p) }));
          const top = Math.max(...scored.map((s) => s.probability));
          const optimal = scored.filter((s) => top - s.probability <= 1e-9 * top).map((s) => s.path);
          // Smallest when compared from the last layer backwards.
          const expected = optimal.sort((a, b) => {
            for (let l = a.length - 1; l >= 0; l--) if (a[l] !== b[l]) return a[l]! - b[l]!;
            return 0;
          })[0]!;
          expect(viterbi(beta, { layers, scales }).path).toEqual(expected.map((i) => scales[i]));
        }
      }
    }
  });

  it('all-zero β: every step ½, the path stays at s = 4', () => {
    const layers = 5;
    const size = new TrellisTopology(layers).betaSize;
    const result = viterbi(new Array(size).fill(0), { layers });
    expect(result.path).toEqual([4, 4, 4, 4, 4]);
    expect(result.probability).toBeCloseTo(0.5 ** 5, 15);
  });

  it('never leaves the trellis and survives extreme logits', () => {
    const rng = new Rng(3);
    const layers = 8;
    const size = new TrellisTopology(layers).betaSize;
    for (let trial = 0; trial < 20; trial++) {
      const beta = Array.from({ length: size }, () => rng.normal() * 1000);
      const { path, probability } = viterbi(beta, { layers });
      expect(path).toHaveLength(layers);
      let previous = 4;
      path.forEach((s, l) => {
        expect([previous / 2, previous, previous * 2]).toContain(s);
        expect(Math.log2(s) - 2).toBeLessThanOrEqual(l + 1);
        previous = s;
      });
      expect(probability).toBeGreaterThanOrEqual(0);
      expect(probability).toBeLessThanOrEqual(1);
    }
  });

  it('reads tensors and typed arrays without leaking tensors', () => {
    const layers = 4;
    const size = new TrellisTopology(layers).betaSize;
    const rng = new Rng(9);
    const values = Array.from({ length: size }, () => rng.normal());
    const expected = viterbi(values, { layers });
    const before = tf.memory().numTensors;
    const beta = tf.tensor1d(values);
    for (let i = 0; i < 3; i++) {
      const fromTensor = viterbi(beta, { layers });
      expect(fromTensor.path).toEqual(expected.path);
      expect(fromTensor.probability).toBeCloseTo(expected.probability, 6);
    }
    beta.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(viterbi(Float32Array.from(values), { layers }).path).toEqual(expected.path);
  });

  it('rejects β of the wrong length, non-finite entries and bad scale sets', () => {
    expect(() => viterbi([0, 0, 0], { layers: 3 })).toThrow(UserInputError);
    expect(() => viterbi([0, 0, 0], { layers: 3 })).toThrow(/expected \d+ values, found 3/);
    const size = new TrellisTopology(2).betaSize;
    const bad = new Array(size).fill(0);
    bad[2] = Number.NaN;
    expect(() => viterbi(bad, { layers: 2 })).toThrow(/entry \[2\] is NaN/);
    expect(() => viterbi([], { layers: 2, scales: [8, 16] as Scale[] })).toThrow(/scales must start at 4/);
  });
});
