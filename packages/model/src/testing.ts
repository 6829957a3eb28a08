// Test helpers (not exported from the package).
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@autodeeplab/core';
import { GENOTYPE_FORMAT, GENOTYPE_VERSION, type Genotype, type Scale } from '@autodeeplab/genotype';

/** Small filters everywhere so that full-size inputs run quickly in tests. */
export const TINY = {
  stemFilters: [4, 4, 6] as [number, number, number],
  asppFilters: 6,
  asppRates: [2, 3, 4],
  lowLevelFilters: 3,
  decoderFilters: 5,
};

/** A genotype using every built-in op (none excluded), with the given path. */
export function allOpsGenotype(path: Scale[]): Genotype {
  return {
    format: GENOTYPE_FORMAT,
    version: GENOTYPE_VERSION,
    name: 'all-ops',
    cell: [
      [
        { op: 'sep_conv_3x3', input: 'prev' },
        { op: 'skip_connect', input: 'prev_prev' },
      ],
      [
        { op: 'dil_conv_3x3', input: 'prev_prev' },
        { op: 'max_pool_3x3', input: 'block1' },
      ],
      [
        { op: 'avg_pool_3x3', input: 'prev' },
        { op: 'sep_conv_5x5', input: 'block2' },
      ],
      [
        { op: 'dil_conv_5x5', input: 'block3' },
        { op: 'skip_connect', input: 'prev' },
      ],
    ],
    path,
  };
}

export function randomImages(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  return tf.tensor4d(new Rng(seed).normals(shape[0] * shape[1] * shape[2] * shape[3]), shape);
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}
