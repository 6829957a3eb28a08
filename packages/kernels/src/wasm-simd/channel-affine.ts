import { addConst, addLocal, assemble, FunctionBuilder, loopWhileDecremented, op, repeatWhileBelow, type AssembledFunction } from './assembler.js';

/**
 * channelAffine: a per-channel affine map of one or two NHWC tensors over a run of pixels,
 *
 *   out[p·outStride + c] = a[p·aStride + c]·s1[c] + b[p·bStride + c]·s2[c] + t[c]
 *
 * for p < pixels (≥ 1) and float32 c < cBytes/4 (cBytes a positive multiple of 16; strides and
 * offsets in bytes); out may be a or b (in place). The building block of the fused BN kernels
 * (normalising: a = b = x; the BN gradient: a = dy, b = y, all strides cBytes) and of the edges'
 * weighted sums (a term shared by all edges read with a smaller stride than the output's).
 */
export type ChannelAffine = (
  a: number,
  b: number,
  out: number,
  s1: number,
  s2: number,
  t: number,
  pixels: number,
  cBytes: number,
  aStride: number,
  bStride: number,
  outStride: number,
) => void;

export function channelAffineFunction(): AssembledFunction {
  const f = new FunctionBuilder('channelAffine', ['a', 'b', 'out', 's1', 's2', 't', 'pixels', 'cBytes', 'aStride', 'bStride', 'outStride']);
  const { a, b, out, s1, s2, t, pixels, cBytes, aStride, bStride, outStride } = f.param;
  const c = f.i32('c');
  const { localGet: get, localSet: set } = op;
  const at = (ptr: number) => [...get(ptr), ...get(c), ...op.i32Add, ...op.v128Load(0)];
  return assemble(f, [
    ...op.loop,
    ...op.i32Const(0),
    ...set(c),
    ...op.loop,
    ...get(out),
    ...get(c),
    ...op.i32Add,
    ...at(a),
    ...at(s1),
    ...op.f32x4Mul,
    ...at(b),
    ...at(s2),
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...at(t),
    ...op.f32x4Add,
    ...op.v128Store(0),
    ...addConst(c, 16),
    ...repeatWhileBelow(c, cBytes),
    ...op.end,
    ...addLocal(a, aStride),
    ...addLocal(b, bStride),
    ...addLocal(out, outStride),
    ...loopWhileDecremented(pixels),
    ...op.end,
    ...op.end,
  ]);
}
