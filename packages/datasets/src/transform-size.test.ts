import { describe, expect, it } from 'vitest';
import { Rng } from '@autodeeplab/core';
import { TransformSchema, planTransform, transformedSizeRange } from './transforms.js';

describe('transformedSizeRange', () => {
  it('is the crop when there is one, whatever the image', () => {
    expect(transformedSizeRange(8000, 8000, TransformSchema.parse({ crop: [321, 513], scale: [0.5, 2] }))).toEqual({ min: [321, 513], max: [321, 513] });
  });

  it('without a crop: the resized image at both ends of the scale range, as planTransform draws them', () => {
    const config = TransformSchema.parse({ resize: 0.5, scale: [0.5, 2] });
    const range = transformedSizeRange(1024, 2048, config);
    expect(range).toEqual({ min: [256, 512], max: [1024, 2048] });
    const rng = new Rng(3);
    for (let i = 0; i < 50; i++) {
      const p = planTransform(1024, 2048, config, rng);
      expect(p.height).toBeGreaterThanOrEqual(range.min[0]);
      expect(p.height).toBeLessThanOrEqual(range.max[0]);
      expect(p.width).toBeGreaterThanOrEqual(range.min[1]);
      expect(p.width).toBeLessThanOrEqual(range.max[1]);
    }
    expect(transformedSizeRange(7, 9, TransformSchema.parse({}))).toEqual({ min: [7, 9], max: [7, 9] });
    expect(transformedSizeRange(7, 9, TransformSchema.parse({ resize: [33, 65] }))).toEqual({ min: [33, 65], max: [33, 65] });
  });
});
