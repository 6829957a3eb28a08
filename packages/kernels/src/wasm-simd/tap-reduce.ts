import { addConst, assemble, FunctionBuilder, op, remainingAtLeast, repeatWhileBelow, type AssembledFunction } from './assembler.js';
import { sweepPixels, type PixelSweepLocals, type SweepArgs } from './pixel-sweep.js';

/**
 * tapReduce: one tap of a depthwise filter gradient over a block of rows,
 *
 *   acc[c] += Σ_{r < rows, j < cols} x[r·xRowStride + j·xColStride + c] · dy[r·dyRowStride + j·dyColStride + c]
 *
 * for every float32 channel c < cBytes/4 (all pointers and strides in bytes; rows, cols ≥ 1; cBytes a
 * positive multiple of 16). Channels go 8 at a time (two independent f32x4 accumulators, to hide the
 * add latency), then 4.
 */
export type TapReduce = (...args: [...SweepArgs, cBytes: number]) => void;

/** The row/column sweep around `body` (which reads xPixel, dyPixel), for the channels at offset c. */
function rowsAndCols(l: PixelSweepLocals & Record<'X' | 'DY' | 'C', number>, body: number[]): number[] {
  const { localGet: get, localSet: set } = op;
  return [...get(l.X), ...get(l.C), ...op.i32Add, ...set(l.XR), ...get(l.DY), ...get(l.C), ...op.i32Add, ...set(l.DR), ...sweepPixels(l, body)];
}

export function tapReduceFunction(): AssembledFunction {
  const f = new FunctionBuilder('tapReduce', ['x', 'dy', 'acc', 'rows', 'xRowStride', 'dyRowStride', 'cols', 'xColStride', 'dyColStride', 'cBytes']);
  const { x: X, dy: DY, acc: ACC, rows: ROWS, xRowStride: XRS, dyRowStride: DRS, cols: COLS, xColStride: XCS, dyColStride: DCS, cBytes: CB } = f.param;
  const C = f.i32('c');
  const R = f.i32('rowsLeft');
  const J = f.i32('colsLeft');
  const XR = f.i32('xRow');
  const DR = f.i32('dyRow');
  const XP = f.i32('xPixel');
  const DP = f.i32('dyPixel');
  const V0 = f.v128('sum0');
  const V1 = f.v128('sum1');
  const { localGet: get, localSet: set } = op;
  const loop = { X, DY, C, ROWS, R, XR, DR, XRS, DRS, COLS, J, XP, DP, XCS, DCS };

  /** v = v + x[xPixel + off] · dy[dyPixel + off] */
  const mac = (v: number, off: number) => [
    ...get(v),
    ...get(XP),
    ...op.v128Load(off),
    ...get(DP),
    ...op.v128Load(off),
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...set(v),
  ];
  const accAddr = [...get(ACC), ...get(C), ...op.i32Add];
  const eight = [
    ...accAddr,
    ...op.v128Load(0),
    ...set(V0),
    ...accAddr,
    ...op.v128Load(16),
    ...set(V1),
    ...rowsAndCols(loop, [...mac(V0, 0), ...mac(V1, 16)]),
    ...accAddr,
    ...get(V0),
    ...op.v128Store(0),
    ...accAddr,
    ...get(V1),
    ...op.v128Store(16),
    ...addConst(C, 32),
  ];
  const four = [...accAddr, ...op.v128Load(0), ...set(V0), ...rowsAndCols(loop, mac(V0, 0)), ...accAddr, ...get(V0), ...op.v128Store(0), ...addConst(C, 16)];
  return assemble(f, [
    ...op.loop,
    ...remainingAtLeast(CB, C, 32),
    ...op.if,
    ...eight,
    ...op.else,
    ...four,
    ...op.end,
    ...repeatWhileBelow(C, CB),
    ...op.end,
    ...op.end,
  ]);
}
