import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, Rng, UserInputError } from '@autodeeplab/core';
import { builtinGenotype, cellEdges, GenotypeSchema, TrellisTopology } from '@autodeeplab/genotype';
import { decode, decodeCell, viterbi } from './index.js';

const OPS = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5'];

describe('decode', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('turns a fake supernet {alpha, beta, config} into a schema-valid genotype', () => {
    const config = { layers: 6, blocks: 4, scales: [4, 8, 16], ops: OPS, filterMultiplier: 8, numClasses: 19 };
    const rng = new Rng(8);
    const topology = new TrellisTopology(6, [4, 8, 16]);
    const alphaValues = cellEdges(4).map(() => OPS.map(() => rng.normal()));
    const betaValues = topology.edges.map(() => rng.normal());
    const before = tf.memory().numTensors;
    const alpha = tf.tidy(() => tf.variable(tf.tensor2d(alphaValues)));
    const beta = tf.tidy(() => tf.variable(tf.tensor1d(betaValues)));
    const genotype = decode({ alpha, beta, config }, { name: 'fake', source: 'run-1/checkpoint-5', epoch: 5, step: 1234, createdAt: new Date(0) });
    alpha.dispose();
    beta.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(GenotypeSchema.safeParse(genotype).success).toBe(true);
    const { path, probability } = viterbi(betaValues, { layers: 6, scales: [4, 8, 16] });
    expect(genotype).toMatchObject({
      format: 'autodeeplab-genotype',
      version: 1,
      name: 'fake',
      cell: decodeCell(alphaValues, { ops: OPS, blocks: 4 }),
      path,
      search: { config, source: 'run-1/checkpoint-5', epoch: 5, step: 1234, createdAt: '1970-01-01T00:00:00.000Z' },
    });
    expect(genotype.pathProbability).toBeCloseTo(probability, 6);
    expect(genotype.cell).toHaveLength(4);
    expect(genotype.path).toHaveLength(6);
  });

  it('recovers the paper genotype from α and β that encode it', () => {
    const paper = builtinGenotype('paper');
    const alpha: number[][] = cellEdges(5).map(() => OPS.map((op) => (op === 'none' ? 2 : 0)));
    paper.cell.forEach((block, b) =>
      block.forEach((branch, k) => {
        const edge = cellEdges(5).find((e) => e.block === b + 1 && e.input === branch.input)!;
        alpha[edge.index]![OPS.indexOf(branch.op)] = 3 - k;
      }),
    );
    const topology = new TrellisTopology(12);
    const full = [4, ...paper.path];
    const beta = topology.edges.map((e) => (full[e.layer] === e.from && full[e.layer + 1] === e.to ? 2 : 0));
    const genotype = decode({ alpha, beta, config: { layers: 12, blocks: 5, ops: OPS } });
    expect(genotype.cell).toEqual(paper.cell);
    expect(genotype.path).toEqual(paper.path);
    expect(genotype.search?.source).toBe('supernet');
    expect(Number.isNaN(Date.parse(genotype.search!.createdAt!))).toBe(false);
  });

  it('rejects configs with scales that are not trellis scales', () => {
    const alpha = cellEdges(1).map(() => OPS.map(() => 0));
    expect(() => decode({ alpha, beta: [0, 0], config: { layers: 1, blocks: 1, scales: [4, 12], ops: OPS } })).toThrow(UserInputError);
    expect(() => decode({ alpha, beta: [0, 0], config: { layers: 1, blocks: 1, scales: [4, 12], ops: OPS } })).toThrow(/config\.scales.*found 12/);
  });
});
