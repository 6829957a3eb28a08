import { Rng, UserInputError } from '@autodeeplab/core';
import { mixSeed } from './seed.js';

export interface SearchSplit {
  /** Indices for the weights w (sorted). */
  trainA: number[];
  /** Indices for the architecture α, β (sorted); disjoint from trainA. */
  trainB: number[];
  sizes: { trainA: number; trainB: number };
  seed: number;
}

/**
 * Splits a dataset at random into two disjoint parts for the bilevel search (paper §4.2): the same seed
 * always gives the same split, so a resumed search sees the same halves.
 */
export function searchSplit(dataset: { size: number }, options: { seed: number; fraction?: number }): SearchSplit {
  const fraction = options.fraction ?? 0.5;
  if (!(fraction > 0 && fraction < 1)) throw new UserInputError(`searchSplit: fraction must be in (0, 1), got ${fraction}`);
  if (dataset.size < 2) throw new UserInputError(`searchSplit: need at least 2 samples to split, the dataset has ${dataset.size}`);
  const order = new Rng(mixSeed(options.seed, 0x5b117)).permutation(dataset.size);
  const sizeA = Math.min(dataset.size - 1, Math.max(1, Math.round(dataset.size * fraction)));
  const trainA = order.slice(0, sizeA).sort((a, b) => a - b);
  const trainB = order.slice(sizeA).sort((a, b) => a - b);
  return { trainA, trainB, sizes: { trainA: trainA.length, trainB: trainB.length }, seed: options.seed };
}
