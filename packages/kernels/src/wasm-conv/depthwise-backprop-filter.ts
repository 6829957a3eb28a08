import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { depthwiseBackpropFilter } from '../conv/backprop.js';
import { convGeometry, type ConvAttrs, type ConvGeometry } from '../conv/geometry.js';
import { depthwiseFilterGradSimd } from '../conv/simd-depthwise-filter-grad.js';
import { kernelPathCounts } from '../path-counts.js';
import { kernelPrims } from '../prims.js';
import { isWasmHeapBackend } from '../wasm-heap.js';
import { BACKEND, convAttrsOf, filterGradOnHeap, inputsOf } from './heap-conv.js';

/**
 * DepthwiseConv2dNativeBackpropFilter on wasm (tfjs-backend-wasm has none): the SIMD reduction
 * `tapReduce` over the heap where C·M is a multiple of 4, else the XNNPACK formulation (dy as a
 * Ho×Wo depthwise filter, conv/backprop.ts), which is several times slower. Takes dilations.
 */

/** Depthwise filter gradient on the heap with the SIMD reduction; null where that path does not apply. */
function multiplierOneOnHeap(backend: unknown, x: TensorInfo, dy: TensorInfo, filterShape: number[], g: ConvGeometry): TensorInfo | null {
  if (g.multiplier !== 1 || g.inC % 4 !== 0) return null;
  return filterGradOnHeap(backend, x, dy, filterShape, (k, xo, dyo, outo) => depthwiseFilterGradSimd(k.tapReduce, xo, dyo, outo, g));
}

/**
 * With a channel multiplier M > 1, output channel c·M + m reads input channel c: repeating each input
 * channel M times turns the problem into multiplier 1 over C·M channels, whose [k, k, C·M, 1] result
 * is the [k, k, C, M] gradient in the same memory order (the stacked supernet ops use M = edges).
 */
function multiplierManyOnHeap(
  backend: KernelBackend,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: number[],
  attrs: ConvAttrs,
  g: ConvGeometry,
): TensorInfo | null {
  const channels = g.inC * g.multiplier;
  if (g.multiplier === 1 || channels % 4 !== 0 || !isWasmHeapBackend(backend)) return null;
  const P = kernelPrims(backend, BACKEND);
  const [n, h, w] = x.shape as [number, number, number, number];
  // Each input channel M times in a row (a plain loop: the backend's Tile is far slower here).
  const repeated = backend.makeOutput([n, h, w, channels], 'float32');
  const source = backend.typedArrayFromHeap(x);
  const target = backend.typedArrayFromHeap(repeated);
  const m = g.multiplier;
  for (let i = 0, o = 0; i < source.length; i++) {
    const v = source[i]!;
    for (let k = 0; k < m; k++) target[o++] = v;
  }
  const flatShape = [filterShape[0]!, filterShape[1]!, channels, 1];
  const flat = convGeometry(repeated.shape, flatShape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  const out = multiplierOneOnHeap(backend, repeated, dy, flatShape, flat);
  P.dispose(repeated);
  if (out == null) return null;
  const result = P.reshape(out, filterShape);
  P.dispose(out);
  return result;
}

const depthwiseBackpropFilterKernel: KernelFunc = (args) => {
  const [x, dy] = inputsOf(args, 'x', 'dy');
  const attrs = convAttrsOf(args.attrs);
  const filterShape = (args.attrs as { filterShape: number[] }).filterShape;
  const g = convGeometry(x.shape, filterShape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  const out = multiplierOneOnHeap(args.backend, x, dy, filterShape, g) ?? multiplierManyOnHeap(args.backend as KernelBackend, x, dy, filterShape, attrs, g);
  if (out != null) {
    kernelPathCounts.depthwiseFilterGrad.simd++;
    return out;
  }
  kernelPathCounts.depthwiseFilterGrad.xnnpack++;
  return depthwiseBackpropFilter(kernelPrims(args.backend as KernelBackend, BACKEND), x, dy, g);
};

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: BACKEND,
  kernelFunc: depthwiseBackpropFilterKernel,
};
