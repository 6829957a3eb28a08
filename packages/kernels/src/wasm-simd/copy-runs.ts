import { addLocal, assemble, FunctionBuilder, loopWhileDecremented, op, type AssembledFunction } from './assembler.js';

/**
 * copyRuns: `count` runs of nBytes bytes,
 *
 *   run r: src + r·srcStride → dst + r·dstStride   (r < count, count ≥ 1; runs must not overlap)
 *
 * one bulk-memory memory.copy per run: the rows of a channel slice or concatenation without a
 * JavaScript call each. (Not SIMD, but it lives in the same module, bound to the same heap.)
 */
export type CopyRuns = (src: number, dst: number, count: number, nBytes: number, srcStride: number, dstStride: number) => void;

export function copyRunsFunction(): AssembledFunction {
  const f = new FunctionBuilder('copyRuns', ['src', 'dst', 'count', 'nBytes', 'srcStride', 'dstStride']);
  const { src, dst, count, nBytes, srcStride, dstStride } = f.param;
  const get = op.localGet;
  return assemble(f, [
    ...op.loop,
    ...get(dst),
    ...get(src),
    ...get(nBytes),
    ...op.memoryCopy,
    ...addLocal(src, srcStride),
    ...addLocal(dst, dstStride),
    ...loopWhileDecremented(count),
    ...op.end,
    ...op.end,
  ]);
}
