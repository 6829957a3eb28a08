import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

describe('Rng', () => {
  it('repeats the same stream for the same seed and differs for another seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const seqA = Array.from({ length: 20 }, () => a.nextUint32());
    expect(Array.from({ length: 20 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 20 }, () => c.nextUint32())).not.toEqual(seqA);
  });

  it('resumes exactly from a saved state', () => {
    const a = new Rng(7);
    for (let i = 0; i < 13; i++) a.uniform();
    const saved = a.getState();
    const expected = Array.from({ length: 10 }, () => a.uniform());
    const b = new Rng(0);
    b.setState(saved);
    expect(Array.from({ length: 10 }, () => b.uniform())).toEqual(expected);
  });

  it('draws uniforms in [0, 1) with the right mean and normals with unit variance', () => {
    const rng = new Rng(1);
    const n = 200_000;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    const normals = rng.normals(n);
    const mean = normals.reduce((a, b) => a + b, 0) / n;
    const variance = normals.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    expect(mean).toBeCloseTo(0, 1);
    expect(variance).toBeGreaterThan(0.98);
    expect(variance).toBeLessThan(1.02);
  });

  it('permutes every index exactly once', () => {
    const perm = new Rng(3).permutation(100);
    expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(perm).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
