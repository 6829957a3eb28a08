import { describe, expect, it } from 'vitest';
import { searchSplit } from './split.js';

describe('searchSplit', () => {
  it('gives disjoint halves covering the dataset, reproducible per seed', () => {
    const a = searchSplit({ size: 2975 }, { seed: 1 });
    expect(a.sizes).toEqual({ trainA: 1488, trainB: 1487 });
    expect(a.trainA).toHaveLength(1488);
    const all = [...a.trainA, ...a.trainB].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 2975 }, (_, i) => i));
    expect(new Set([...a.trainA, ...a.trainB]).size).toBe(2975);
    expect(searchSplit({ size: 2975 }, { seed: 1 })).toEqual(a);
    expect(searchSplit({ size: 2975 }, { seed: 2 }).trainA).not.toEqual(a.trainA);
    // Not simply the first half.
    expect(a.trainA.filter((i) => i >= 1488).length).toBeGreaterThan(500);
  });

  it('honours fraction and rejects impossible splits', () => {
    expect(searchSplit({ size: 10 }, { seed: 0, fraction: 0.8 }).sizes).toEqual({ trainA: 8, trainB: 2 });
    expect(searchSplit({ size: 2 }, { seed: 0, fraction: 0.01 }).sizes).toEqual({ trainA: 1, trainB: 1 });
    expect(() => searchSplit({ size: 1 }, { seed: 0 })).toThrow(/at least 2/);
    expect(() => searchSplit({ size: 10 }, { seed: 0, fraction: 1 })).toThrow(/fraction/);
  });
});
