import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, Rng, UserInputError } from '@autodeeplab/core';
import { builtinGenotype, cellEdges } from '@autodeeplab/genotype';
import { decodeCell, scoreCellEdges } from './index.js';

const OPS = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5'];
const col = (op: string) => OPS.indexOf(op);

/** α of `blocks` blocks filled with `value`, then `set(row, op, logit)` entries. */
function alphaOf(blocks: number, value = 0): number[][] {
  return cellEdges(blocks).map(() => OPS.map(() => value));
}
function row(blocks: number, block: number, input: string): number {
  return cellEdges(blocks).find((e) => e.block === block && e.input === input)!.index;
}

describe('decodeCell', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('never chooses `none`, as an edge or as an op, even where it has the largest α', () => {
    const alpha = alphaOf(2);
    // Block 2: prev_prev is dominated by none (its other ops get softmax ≈ 4.5e-5 each).
    alpha[row(2, 2, 'prev_prev')]![col('none')] = 10;
    alpha[row(2, 2, 'prev')]![col('sep_conv_3x3')] = 1; // e/(e+7) ≈ 0.280
    alpha[row(2, 2, 'block1')]![col('dil_conv_3x3')] = 0.5; // e^.5/(e^.5+7) ≈ 0.191
    // Block 1: both edges have none largest; the op must still be a real one.
    alpha[row(2, 1, 'prev_prev')]![col('none')] = 5;
    alpha[row(2, 1, 'prev_prev')]![col('skip_connect')] = 1;
    alpha[row(2, 1, 'prev')]![col('none')] = 5;
    alpha[row(2, 1, 'prev')]![col('avg_pool_3x3')] = 2;
    for (const strength of ['softmax', 'logit'] as const) {
      expect(decodeCell(alpha, { ops: OPS, blocks: 2, strength })).toEqual([
        // prev: softmax e²/(e⁵+e²+6) ≈ 0.047 > prev_prev e/(e⁵+e+6) ≈ 0.017; logits 2 > 1.
        [
          { op: 'avg_pool_3x3', input: 'prev' },
          { op: 'skip_connect', input: 'prev_prev' },
        ],
        [
          { op: 'sep_conv_3x3', input: 'prev' },
          { op: 'dil_conv_3x3', input: 'block1' },
        ],
      ]);
    }
  });

  it('`none` anywhere in the op list, and as the only large logit everywhere', () => {
    const ops = ['conv_a', 'none', 'conv_b'];
    const alpha = cellEdges(3).map(() => [0, 50, 0.1]);
    const cell = decodeCell(alpha, { ops, blocks: 3 });
    for (const block of cell) for (const branch of block) expect(branch.op).toBe('conv_b');
  });

  it('softmax strength (default) and logit strength differ as computed by hand', () => {
    const alpha = alphaOf(2);
    // Block 2, edge A (prev_prev): every real op at 3, none at 0 → softmax e³/(7e³+1) ≈ 0.142, logit 3.
    for (const op of OPS.slice(1)) alpha[row(2, 2, 'prev_prev')]![col(op)] = 3;
    // Edge B (prev): one op at 1 → softmax e/(e+7) ≈ 0.280, logit 1.
    alpha[row(2, 2, 'prev')]![col('sep_conv_5x5')] = 1;
    // Edge C (block1): one op at 0.5 → softmax ≈ 0.191, logit 0.5.
    alpha[row(2, 2, 'block1')]![col('dil_conv_5x5')] = 0.5;
    expect(decodeCell(alpha, { ops: OPS, blocks: 2 })[1]).toEqual([
      { op: 'sep_conv_5x5', input: 'prev' },
      { op: 'dil_conv_5x5', input: 'block1' },
    ]);
    // By logits A is strongest; its ops tie, so the lowest column other than none wins.
    expect(decodeCell(alpha, { ops: OPS, blocks: 2, strength: 'logit' })[1]).toEqual([
      { op: 'max_pool_3x3', input: 'prev_prev' },
      { op: 'sep_conv_5x5', input: 'prev' },
    ]);
    const scored = scoreCellEdges(alpha, { ops: OPS, blocks: 2 });
    expect(scored[row(2, 2, 'prev_prev')]!.strength).toBeCloseTo(Math.exp(3) / (7 * Math.exp(3) + 1), 12);
    expect(scored[row(2, 2, 'prev')]!.strength).toBeCloseTo(Math.E / (Math.E + 7), 12);
  });

  it('ties: lower edge index, then lower op column, wins', () => {
    // All equal: every block takes prev_prev then prev, each with the first real op.
    const flat = decodeCell(alphaOf(5, 0.3), { ops: OPS, blocks: 5 });
    for (const block of flat) {
      expect(block).toEqual([
        { op: 'max_pool_3x3', input: 'prev_prev' },
        { op: 'max_pool_3x3', input: 'prev' },
      ]);
    }
    // Block 3: block2 strongest; prev and block1 tie for second → prev (lower edge index).
    const alpha = alphaOf(3);
    alpha[row(3, 3, 'block2')]![col('sep_conv_3x3')] = 2;
    alpha[row(3, 3, 'prev')]![col('dil_conv_3x3')] = 1;
    alpha[row(3, 3, 'prev')]![col('skip_connect')] = 1;
    alpha[row(3, 3, 'block1')]![col('dil_conv_3x3')] = 1;
    alpha[row(3, 3, 'block1')]![col('skip_connect')] = 1;
    expect(decodeCell(alpha, { ops: OPS, blocks: 3 })[2]).toEqual([
      { op: 'sep_conv_3x3', input: 'block2' },
      { op: 'skip_connect', input: 'prev' },
    ]);
  });

  it('recovers the paper cell from an α that encodes it', () => {
    const paper = builtinGenotype('paper').cell;
    const rng = new Rng(1);
    // Small noise everywhere; `none` strong everywhere; each kept branch's op clearly on top.
    const alpha = cellEdges(5).map(() => OPS.map((op) => (op === 'none' ? 3 : 0.1 * rng.normal())));
    paper.forEach((block, b) =>
      block.forEach((branch, k) => {
        alpha[row(5, b + 1, branch.input)]![col(branch.op)] = 2.5 - k; // first branch strongest
      }),
    );
    expect(decodeCell(alpha, { ops: OPS, blocks: 5 })).toEqual(paper);
  });

  it('agrees with a direct re-derivation on random α and keeps its invariants', () => {
    const rng = new Rng(21);
    for (let trial = 0; trial < 200; trial++) {
      const blocks = 1 + (trial % 6);
      const edges = cellEdges(blocks);
      const alpha = edges.map(() => OPS.map(() => rng.normal() * 2));
      const cell = decodeCell(alpha, { ops: OPS, blocks });
      expect(cell).toHaveLength(blocks);
      cell.forEach((block, b) => {
        // Reference: weights w = exp(α)/Σexp(α) per row; strength = max over k ≥ 1 (none is column 0).
        const incoming = edges.filter((e) => e.block === b + 1);
        const strengths = incoming.map((e) => {
          const r = alpha[e.index]!;
          const z = r.reduce((acc, x) => acc + Math.exp(x), 0);
          return Math.max(...r.slice(1).map((x) => Math.exp(x) / z));
        });
        const order = incoming.map((_, i) => i).sort((i, j) => strengths[j]! - strengths[i]! || i - j);
        const expected = order.slice(0, 2).map((i) => {
          const r = alpha[incoming[i]!.index]!;
          const best = r.slice(1).indexOf(Math.max(...r.slice(1))) + 1;
          return { op: OPS[best], input: incoming[i]!.input };
        });
        expect(block).toEqual(expected);
        expect(block[0].input).not.toBe(block[1].input);
        for (const branch of block) expect(branch.op).not.toBe('none');
      });
    }
  });

  it('reads nested arrays, flat typed arrays and tensors alike, without leaking tensors', () => {
    const rng = new Rng(4);
    const alpha = alphaOf(5).map((r) => r.map(() => rng.normal()));
    const expected = decodeCell(alpha, { ops: OPS, blocks: 5 });
    expect(decodeCell(Float32Array.from(alpha.flat()), { ops: OPS, blocks: 5 })).toEqual(expected);
    const before = tf.memory().numTensors;
    const tensor = tf.tensor2d(alpha);
    expect(decodeCell(tensor, { ops: OPS, blocks: 5 })).toEqual(expected);
    tensor.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects α of the wrong shape or with non-finite values, naming what was expected', () => {
    expect(() => decodeCell(alphaOf(4), { ops: OPS, blocks: 5 })).toThrow(UserInputError);
    expect(() => decodeCell(alphaOf(4), { ops: OPS, blocks: 5 })).toThrow(/expected 20 rows, found 14/);
    const t = tf.zeros([20, 7]);
    expect(() => decodeCell(t, { ops: OPS, blocks: 5 })).toThrow(/shape \[20, 8\], found \[20, 7\]/);
    t.dispose();
    const bad = alphaOf(2);
    bad[3]![2] = Number.POSITIVE_INFINITY;
    expect(() => decodeCell(bad, { ops: OPS, blocks: 2 })).toThrow(/\[3\]\[2\] is Infinity/);
    expect(() => decodeCell([[0], [0]], { ops: ['none'], blocks: 1 })).toThrow(/other than 'none'/);
  });
});
