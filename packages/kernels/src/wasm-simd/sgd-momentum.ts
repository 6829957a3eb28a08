import { addConst, assemble, FunctionBuilder, op, repeatWhileBelow, type AssembledFunction } from './assembler.js';

/**
 * sgdMomentum: one SGD-with-momentum update of nBytes/4 floats (nBytes a positive multiple of 16),
 *
 *   g' = g + w·wd (flags bit 0),   v' = v·μ + g',   w' = w − lr·d,   d = v' or, with flags bit 1 (Nesterov), g' + v'·μ
 *
 * every operation an f32 lane op in the order of the op-by-op form, so both give the same bits.
 * lr, μ and wd are passed as their float32 bit patterns.
 */
export type SgdMomentum = (
  w: number,
  g: number,
  v: number,
  wOut: number,
  vOut: number,
  nBytes: number,
  lrBits: number,
  muBits: number,
  wdBits: number,
  flags: number,
) => void;

export function sgdMomentumFunction(): AssembledFunction {
  const f = new FunctionBuilder('sgdMomentum', ['w', 'g', 'v', 'wOut', 'vOut', 'nBytes', 'lrBits', 'muBits', 'wdBits', 'flags']);
  const { w, g, v, wOut, vOut, nBytes, lrBits, muBits, wdBits, flags } = f.param;
  const i = f.i32('i');
  const [lr, mu, wd] = [f.v128('lr'), f.v128('mu'), f.v128('wd')];
  const [wi, gi, vi] = [f.v128('wLanes'), f.v128('gLanes'), f.v128('vLanes')];
  const { localGet: get, localSet: set } = op;
  const splat = (param: number, local: number) => [...get(param), ...op.f32ReinterpretI32, ...op.f32x4Splat, ...set(local)];
  const at = (ptr: number) => [...get(ptr), ...get(i), ...op.i32Add];
  const flag = (bit: number) => [...get(flags), ...op.i32Const(bit), ...op.i32And];
  return assemble(f, [
    ...splat(lrBits, lr),
    ...splat(muBits, mu),
    ...splat(wdBits, wd),
    ...op.loop,
    ...at(w),
    ...op.v128Load(0),
    ...set(wi),
    ...at(g),
    ...op.v128Load(0),
    ...set(gi),
    // g' = g + w·wd
    ...flag(1),
    ...op.if,
    ...get(gi),
    ...get(wi),
    ...get(wd),
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...set(gi),
    ...op.end,
    // v' = v·μ + g'
    ...at(v),
    ...op.v128Load(0),
    ...get(mu),
    ...op.f32x4Mul,
    ...get(gi),
    ...op.f32x4Add,
    ...set(vi),
    ...at(vOut),
    ...get(vi),
    ...op.v128Store(0),
    // w' = w − d·lr
    ...at(wOut),
    ...get(wi),
    ...flag(2),
    ...op.ifV128,
    ...get(gi),
    ...get(vi),
    ...get(mu),
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...op.else,
    ...get(vi),
    ...op.end,
    ...get(lr),
    ...op.f32x4Mul,
    ...op.f32x4Sub,
    ...op.v128Store(0),
    ...addConst(i, 16),
    ...repeatWhileBelow(i, nBytes),
    ...op.end,
    ...op.end,
  ]);
}
