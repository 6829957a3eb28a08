import { describe, expect, it } from 'vitest';
import { cosineSchedule, polySchedule, withWarmup, constantSchedule } from './schedules.js';

describe('schedules', () => {
  it('cosine goes from 0.025 to 0.001 along (1 + cos πt/T)/2', () => {
    const lr = cosineSchedule({ max: 0.025, min: 0.001, total: 1000 });
    expect(lr(0)).toBeCloseTo(0.025, 12);
    expect(lr(500)).toBeCloseTo(0.013, 12);
    expect(lr(250)).toBeCloseTo(0.001 + (0.024 * (1 + Math.SQRT1_2)) / 2, 12);
    expect(lr(1000)).toBeCloseTo(0.001, 12);
    expect(lr(2000)).toBeCloseTo(0.001, 12);
  });

  it('poly is base·(1 − t/T)^0.9', () => {
    const lr = polySchedule({ base: 0.05, total: 100 });
    expect(lr(0)).toBeCloseTo(0.05, 12);
    expect(lr(50)).toBeCloseTo(0.05 * 0.5 ** 0.9, 12);
    expect(lr(75)).toBeCloseTo(0.05 * 0.25 ** 0.9, 12);
    expect(lr(100)).toBe(0);
  });

  it('linear warm-up scales the schedule from startFactor to 1 over the warm-up steps', () => {
    const lr = polySchedule({ base: 0.05, total: 100, warmup: { steps: 10, startFactor: 0.1 } });
    const base = polySchedule({ base: 0.05, total: 100 });
    expect(lr(0)).toBeCloseTo(0.1 * base(0), 12);
    expect(lr(5)).toBeCloseTo(0.55 * base(5), 12);
    expect(lr(10)).toBeCloseTo(base(10), 12);
    expect(lr(60)).toBeCloseTo(base(60), 12);
    expect(withWarmup(constantSchedule(2), { steps: 4, startFactor: 0 })(1)).toBeCloseTo(0.5, 12);
  });

  it('rejects a non-positive total', () => {
    expect(() => cosineSchedule({ max: 1, min: 0, total: 0 })).toThrow(/total steps/);
  });
});
