import { addConst, assemble, FunctionBuilder, op, repeatWhileBelow, type AssembledFunction } from './assembler.js';

/**
 * reluMask: the gradient of ReLU,
 *
 *   out[i] = x[i] > 0 ? dy[i] : 0
 *
 * for the nBytes/4 floats (nBytes a positive multiple of 16): dy masked by the lanes where x > 0.
 */
export type ReluMask = (x: number, dy: number, out: number, nBytes: number) => void;

export function reluMaskFunction(): AssembledFunction {
  const f = new FunctionBuilder('reluMask', ['x', 'dy', 'out', 'nBytes']);
  const { x, dy, out, nBytes } = f.param;
  const i = f.i32('i');
  const zero = f.v128('zero');
  const { localGet: get, localSet: set } = op;
  const at = (ptr: number) => [...get(ptr), ...get(i), ...op.i32Add, ...op.v128Load(0)];
  return assemble(f, [
    ...op.f32ConstZero,
    ...op.f32x4Splat,
    ...set(zero),
    ...op.loop,
    ...get(out),
    ...get(i),
    ...op.i32Add,
    ...at(dy),
    ...at(x),
    ...get(zero),
    ...op.f32x4Gt,
    ...op.v128And,
    ...op.v128Store(0),
    ...addConst(i, 16),
    ...repeatWhileBelow(i, nBytes),
    ...op.end,
    ...op.end,
  ]);
}
