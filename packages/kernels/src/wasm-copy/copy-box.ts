import { jsRunCopier, type HeapArray, type RunCopier } from './run-copier.js';

/**
 * Copies the box `begin`/`size` of `x` into `out` (both dense, row-major). Trailing axes taken whole
 * merge into one contiguous run; the runs along the axes before it, as far back as they stay equally
 * spaced (whole axes, then one partial one), go as one batch; the axes before those are walked like
 * an odometer. `copier` moves the batches (default: row by row in JavaScript).
 */
export function copyBox(
  source: HeapArray,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  target: HeapArray,
  copier?: RunCopier,
): void {
  const copy = copier ?? jsRunCopier(source, target);
  const rank = shape.length;
  const strides = new Array<number>(rank);
  let stride = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= shape[d]!;
  }
  // The run: the innermost axis not taken whole, and every axis after it.
  let inner = rank - 1;
  while (inner > 0 && size[inner] === shape[inner]) inner--;
  const run = size[inner]! * strides[inner]!;
  // The batch: axes [batchAxis, inner) — whole ones after batchAxis — whose runs are `rowStride` apart.
  let batchAxis = inner;
  if (inner > 0) {
    batchAxis = inner - 1;
    while (batchAxis > 0 && size[batchAxis] === shape[batchAxis]) batchAxis--;
  }
  const rowStride = inner > 0 ? strides[inner - 1]! : run;
  const batch = size.slice(batchAxis, inner).reduce((a, b) => a * b, 1);
  const outer = size.slice(0, batchAxis).reduce((a, b) => a * b, 1);
  const index = new Array<number>(batchAxis).fill(0);
  let from = 0;
  for (let d = 0; d <= inner; d++) from += begin[d]! * strides[d]!;
  let to = 0;
  for (let r = 0; r < outer; r++) {
    copy(from, to, batch, run, rowStride, run);
    to += batch * run;
    // Next batch: advance the odometer over the leading axes.
    for (let d = batchAxis - 1; d >= 0; d--) {
      from += strides[d]!;
      if (++index[d]! < size[d]!) break;
      from -= size[d]! * strides[d]!;
      index[d] = 0;
    }
  }
}
