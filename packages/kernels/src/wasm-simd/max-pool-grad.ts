import { addConst, addLocal, assemble, FunctionBuilder, loopWhileDecremented, op, repeatWhileBelow, type AssembledFunction } from './assembler.js';

/**
 * maxPoolGrad: the max-pool gradient of a run of output pixels sharing one rectangle of valid taps,
 *
 *   dx[first tap t of pixel p with x[t] = y[p], channel c] += dy[p, c]
 *
 * for each output pixel p < pixels and float32 channel c < cBytes/4: dy goes to the FIRST tap
 * (row-major) whose x equals the pooled y (tfjs' routing: the first maximum of the window). x and dx
 * point at the first valid tap of the run's first pixel; the taps are xRow / xCol bytes apart,
 * consecutive output pixels xPixel bytes apart in x and dx and oPixel in y and dy. pixels, tapRows,
 * tapCols ≥ 1.
 */
export type MaxPoolGrad = (
  x: number,
  y: number,
  dy: number,
  dx: number,
  pixels: number,
  cBytes: number,
  xPixel: number,
  oPixel: number,
  tapRows: number,
  tapCols: number,
  xRow: number,
  xCol: number,
) => void;

export function maxPoolGradFunction(): AssembledFunction {
  const f = new FunctionBuilder('maxPoolGrad', ['x', 'y', 'dy', 'dx', 'pixels', 'cBytes', 'xPixel', 'oPixel', 'tapRows', 'tapCols', 'xRow', 'xCol']);
  const { x, y, dy, dx, pixels, cBytes, xPixel, oPixel, tapRows, tapCols, xRow, xCol } = f.param;
  const c = f.i32('c');
  const rowsLeft = f.i32('rowsLeft');
  const colsLeft = f.i32('colsLeft');
  const tap = f.i32('tap');
  const row = f.i32('row');
  const addr = f.i32('dxAddress');
  const yv = f.v128('yLanes');
  const dv = f.v128('dyLanes');
  const found = f.v128('found');
  const mask = f.v128('mask');
  const zero = f.v128('zero');
  const { localGet: get, localSet: set } = op;
  const loadAt = (ptr: number, off: number) => [...get(ptr), ...get(off), ...op.i32Add, ...op.v128Load(0)];
  return assemble(f, [
    ...op.f32ConstZero,
    ...op.f32x4Splat,
    ...set(zero),
    ...op.loop, // output pixels
    ...op.i32Const(0),
    ...set(c),
    ...op.loop, // channel quads
    ...loadAt(y, c),
    ...set(yv),
    ...loadAt(dy, c),
    ...set(dv),
    ...get(zero),
    ...set(found),
    ...get(c),
    ...set(row),
    ...get(tapRows),
    ...set(rowsLeft),
    ...op.loop, // tap rows
    ...get(row),
    ...set(tap),
    ...get(tapCols),
    ...set(colsLeft),
    ...op.loop, // tap columns
    // mask = (x == y) & ~found: the first maximum only.
    ...loadAt(x, tap),
    ...get(yv),
    ...op.f32x4Eq,
    ...get(found),
    ...op.v128AndNot,
    ...set(mask),
    // dx += mask & dy
    ...get(dx),
    ...get(tap),
    ...op.i32Add,
    ...set(addr),
    ...get(addr),
    ...get(addr),
    ...op.v128Load(0),
    ...get(mask),
    ...get(dv),
    ...op.v128And,
    ...op.f32x4Add,
    ...op.v128Store(0),
    ...get(found),
    ...get(mask),
    ...op.v128Or,
    ...set(found),
    ...addLocal(tap, xCol),
    ...loopWhileDecremented(colsLeft),
    ...op.end,
    ...addLocal(row, xRow),
    ...loopWhileDecremented(rowsLeft),
    ...op.end,
    ...addConst(c, 16),
    ...repeatWhileBelow(c, cBytes),
    ...op.end,
    ...addLocal(x, xPixel),
    ...addLocal(dx, xPixel),
    ...addLocal(y, oPixel),
    ...addLocal(dy, oPixel),
    ...loopWhileDecremented(pixels),
    ...op.end,
    ...op.end,
  ]);
}
