import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatDuration, formatTable, formatValue, printable } from './format.js';

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

  it('printable escapes control characters and keeps the rest', () => {
    expect(printable('\u001b[31mred\u001b[0m car')).toBe('\\x1b[31mred\\x1b[0m car');
    expect(printable('bell\u0007 tab\t del\u007f csi\u009b')).toBe('bell\\x07 tab\\x09 del\\x7f csi\\x9b');
    expect(printable('road · sidewalk é 道路')).toBe('road · sidewalk é 道路');
  });
});
