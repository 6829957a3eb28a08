import { addLocal, loopWhileDecremented, op } from './assembler.js';

/** The arguments every pixel-sweeping SIMD function starts with (pointers and strides in bytes). */
export type SweepArgs = [
  x: number,
  dy: number,
  acc: number,
  rows: number,
  xRowStride: number,
  dyRowStride: number,
  cols: number,
  xColStride: number,
  dyColStride: number,
];

/**
 * The locals of a sweep over a block of rows × cols pixels of x and dy: the counts and their
 * counters, the row and pixel pointers, and the byte strides between rows and between columns.
 */
export type PixelSweepLocals = Record<'ROWS' | 'R' | 'COLS' | 'J' | 'XR' | 'DR' | 'XP' | 'DP' | 'XRS' | 'DRS' | 'XCS' | 'DCS', number>;

/**
 * for r < rows: for j < cols: `body`, with xPixel / dyPixel at the current pixel. The caller sets
 * xRow / dyRow to the block's first row; rows and cols are at least 1 (the loops test at their end).
 */
export function sweepPixels(l: PixelSweepLocals, body: number[]): number[] {
  const { localGet: get, localSet: set } = op;
  return [
    ...get(l.ROWS),
    ...set(l.R),
    ...op.loop,
    ...get(l.XR),
    ...set(l.XP),
    ...get(l.DR),
    ...set(l.DP),
    ...get(l.COLS),
    ...set(l.J),
    ...op.loop,
    ...body,
    ...addLocal(l.XP, l.XCS),
    ...addLocal(l.DP, l.DCS),
    ...loopWhileDecremented(l.J),
    ...op.end,
    ...addLocal(l.XR, l.XRS),
    ...addLocal(l.DR, l.DRS),
    ...loopWhileDecremented(l.R),
    ...op.end,
  ];
}
