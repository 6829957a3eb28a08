import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatDuration, formatTable, formatValue } from './format.js';

describe('formatting', () => {
  it('formats counts as in the paper tables', () => {
    expect(formatCount(10_150_000)).toBe('10.15M');
    expect(formatCount(333_250_000_000)).toBe('333.25B');
    expect(formatCount(999)).toBe('999');
  });
  it('formats bytes, durations and values', () => {
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(100)).toBe('100 B');
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(187)).toBe('3m07s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(formatValue(0.123456)).toBe('0.1235');
    expect(formatValue(2.5)).toBe('2.5');
    expect(formatValue(0.00001)).toBe('1.00e-5');
  });
  it('aligns numeric columns right and text left', () => {
    const text = formatTable([
      ['class', 'IoU'],
      ['road', 0.5],
      ['sidewalk', 0.25],
    ]);
    expect(text.split('\n')).toEqual(['class      IoU', '--------  ----', 'road       0.5', 'sidewalk  0.25', '']);
  });
});
