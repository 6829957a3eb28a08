import { addConst, assemble, FunctionBuilder, op, remainingAtLeast, repeatWhileBelow, type AssembledFunction } from './assembler.js';
import { sweepPixels, type SweepArgs } from './pixel-sweep.js';

/**
 * tapOuter: one tap of a regular filter gradient, a sum of outer products over a block of pixels,
 *
 *   acc[c·coBytes/4 + o] += Σ_{r < rows, j < cols} x[r·xRowStride + j·xColStride + c] · dy[r·dyRowStride + j·dyColStride + o]
 *
 * for c < ci (≥ 1) and float32 o < coBytes/4 (coBytes a positive multiple of 16); acc is a row-major
 * [ci, coBytes/4] block. Register blocking: 4 input channels × 8 output channels (eight f32x4
 * accumulators, x broadcast by v128.load32_splat, dy loaded as two vectors), with 1-channel and
 * 4-output-channel tails; every block sweeps all pixels, keeping its accumulators in registers.
 *
 * tapOuterStrided: the same with two more parameters, xChanStride and accRowStride (bytes), which
 * replace 4 and coBytes as the steps between consecutive c in x and in acc:
 *
 *   acc[c·accRowStride + 4·o] += Σ x[… + c·xChanStride] · dy[… + 4·o]
 *
 * That is one tap of a regular INPUT gradient along a run of pixels (c = the pixel, the sum over the
 * output channels, dy = the filter transposed to [Co, Ci]).
 */
export type TapOuter = (...args: [...SweepArgs, inChannels: number, coBytes: number]) => void;

/** TapOuter's parameters (ci, coBytes read as count, oBytes) and the two strides of the strided form. */
export type TapOuterStrided = (...args: [...Parameters<TapOuter>, xChanStride: number, accRowStride: number]) => void;

const PARAMS = ['x', 'dy', 'acc', 'rows', 'xRowStride', 'dyRowStride', 'cols', 'xColStride', 'dyColStride', 'ci', 'coBytes'] as const;
const STRIDED_PARAMS = [...PARAMS, 'xChanStride', 'accRowStride'] as const;

const { localGet: get, localSet: set } = op;

/** The function's parameters and locals by role. */
function declare(strided: boolean) {
  const f = new FunctionBuilder<(typeof STRIDED_PARAMS)[number]>(strided ? 'tapOuterStrided' : 'tapOuter', strided ? STRIDED_PARAMS : PARAMS);
  const p = f.param;
  const L = {
    f,
    strided,
    X: p.x,
    DY: p.dy,
    ACC: p.acc,
    ROWS: p.rows,
    XRS: p.xRowStride,
    DRS: p.dyRowStride,
    COLS: p.cols,
    XCS: p.xColStride,
    DCS: p.dyColStride,
    CI: p.ci,
    COB: p.coBytes,
    /** Steps between consecutive c in x and in acc (parameters of the strided form only). */
    XCH: p.xChanStride,
    ARS: p.accRowStride,
    CIX: f.i32('channel'),
    XC: f.i32('xChannel'),
    AR: f.i32('accRow'),
    CO: f.i32('outOffset'),
    R: f.i32('rowsLeft'),
    J: f.i32('colsLeft'),
    XR: f.i32('xRow'),
    DR: f.i32('dyRow'),
    XP: f.i32('xPixel'),
    DP: f.i32('dyPixel'),
    /** x pointers of c = 1, 2, 3 in the current pixel (strided only). */
    XPC: strided ? [f.i32('xOffset1'), f.i32('xOffset2'), f.i32('xOffset3')] : [],
    /** Two dy vectors, the broadcast x, 8 accumulators (4 input channels × 2 vectors). */
    D0: f.v128s('dy', 2),
    S: f.v128('xSplat'),
    A: f.v128s('acc', 8),
  };
  return L;
}
type Layout = ReturnType<typeof declare>;

/** k · (local i): the step of k channels. */
const times = (k: number, i: number): number[] => (k === 1 ? get(i) : [...get(i), ...op.i32Const(k), ...op.i32Mul]);

/** Address of accumulator row c of the current block: accRow + outOffset + c·rowStride. */
function accAddr(L: Layout, c: number): number[] {
  const base = [...get(L.AR), ...get(L.CO), ...op.i32Add];
  return c === 0 ? base : [...base, ...times(c, L.strided ? L.ARS : L.COB), ...op.i32Add];
}

/** Pushes x[c] of the current pixel broadcast to four lanes into xSplat. */
function splatX(L: Layout, c: number): number[] {
  if (!L.strided) return [...get(L.XP), ...op.v128Load32Splat(4 * c), ...set(L.S)];
  if (c === 0) return [...get(L.XP), ...op.v128Load32Splat(0), ...set(L.S)];
  return [...get(L.XP), ...get(L.XPC[c - 1]!), ...op.i32Add, ...op.v128Load32Splat(0), ...set(L.S)];
}

/** The pixel sweep for a block of `nc` input channels × `nv` f32x4 of output channels. */
function block(L: Layout, nc: number, nv: number): number[] {
  const acc = (c: number, v: number) => L.A + c * 2 + v;
  const loads: number[] = [];
  const stores: number[] = [];
  for (let c = 0; c < nc; c++) {
    for (let v = 0; v < nv; v++) {
      loads.push(...accAddr(L, c), ...op.v128Load(16 * v), ...set(acc(c, v)));
      stores.push(...accAddr(L, c), ...get(acc(c, v)), ...op.v128Store(16 * v));
    }
  }
  const pixel: number[] = [];
  for (let v = 0; v < nv; v++) pixel.push(...get(L.DP), ...op.v128Load(16 * v), ...set(L.D0 + v));
  for (let c = 0; c < nc; c++) {
    pixel.push(...splatX(L, c));
    for (let v = 0; v < nv; v++) {
      pixel.push(...get(acc(c, v)), ...get(L.S), ...get(L.D0 + v), ...op.f32x4Mul, ...op.f32x4Add, ...set(acc(c, v)));
    }
  }
  return [...loads, ...get(L.XC), ...set(L.XR), ...get(L.DY), ...get(L.CO), ...op.i32Add, ...set(L.DR), ...sweepPixels(L, pixel), ...stores];
}

/** All output-channel blocks (8 at a time, then 4) for `nc` input channels, then advance by nc channels. */
function channels(L: Layout, nc: number): number[] {
  return [
    ...op.i32Const(0),
    ...set(L.CO),
    ...op.loop,
    ...remainingAtLeast(L.COB, L.CO, 32),
    ...op.if,
    ...block(L, nc, 2),
    ...addConst(L.CO, 32),
    ...op.else,
    ...block(L, nc, 1),
    ...addConst(L.CO, 16),
    ...op.end,
    ...repeatWhileBelow(L.CO, L.COB),
    ...op.end,
    ...addConst(L.CIX, nc),
    ...(L.strided ? [...get(L.XC), ...times(nc, L.XCH), ...op.i32Add, ...set(L.XC)] : addConst(L.XC, 4 * nc)),
    ...get(L.AR),
    ...times(nc, L.strided ? L.ARS : L.COB),
    ...op.i32Add,
    ...set(L.AR),
  ];
}

function tapOuterBody(strided: boolean): AssembledFunction {
  const L = declare(strided);
  const [x1, x2, x3] = L.XPC;
  return assemble(L.f, [
    ...get(L.X),
    ...set(L.XC),
    ...get(L.ACC),
    ...set(L.AR),
    ...(strided ? [...get(L.XCH), ...set(x1!), ...times(2, L.XCH), ...set(x2!), ...times(3, L.XCH), ...set(x3!)] : []),
    ...op.loop,
    ...remainingAtLeast(L.CI, L.CIX, 4),
    ...op.if,
    ...channels(L, 4),
    ...op.else,
    ...channels(L, 1),
    ...op.end,
    ...repeatWhileBelow(L.CIX, L.CI),
    ...op.end,
    ...op.end,
  ]);
}

export const tapOuterFunction = (): AssembledFunction => tapOuterBody(false);
export const tapOuterStridedFunction = (): AssembledFunction => tapOuterBody(true);
