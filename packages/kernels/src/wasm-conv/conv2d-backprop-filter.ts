import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { conv2dBackpropFilter } from '../conv/backprop.js';
import { convGeometry, type ConvGeometry } from '../conv/geometry.js';
import { convFilterGradSimd } from '../conv/simd-filter-grad.js';
import { kernelPathCounts } from '../path-counts.js';
import { kernelPrims } from '../prims.js';
import { kernelTuning } from '../tuning.js';
import { BACKEND, convAttrsOf, filterGradOnHeap, inputsOf, requireNHWC } from './heap-conv.js';

/**
 * Conv2DBackpropFilter on wasm (tfjs-backend-wasm has none): the SIMD outer products (`tapOuter`)
 * over the heap where Co is a multiple of 4, else the XNNPACK formulation (forward convolutions,
 * conv/backprop.ts). It reads a `dilations` attribute, which our gradient of Conv2D passes.
 */

/**
 * Whether the SIMD outer-product path is expected to beat the XNNPACK formulation: it won at every
 * shape measured (docs/design/kernels.md), so it is used whenever Co allows.
 */
export function convFilterGradPrefersSimd(g: ConvGeometry): boolean {
  return g.outC % 4 === 0;
}

/** Regular filter gradient on the heap with the SIMD outer products; null where that path does not apply. */
function convFilterGradSimdOnHeap(backend: unknown, x: TensorInfo, dy: TensorInfo, filterShape: number[], g: ConvGeometry): TensorInfo | null {
  if (kernelTuning.convFilterGradSimd === 'never' || !convFilterGradPrefersSimd(g)) return null;
  return filterGradOnHeap(backend, x, dy, filterShape, (k, xo, dyo, outo) => convFilterGradSimd(k.tapOuter, xo, dyo, outo, g));
}

const conv2DBackpropFilter: KernelFunc = (args) => {
  const [x, dy] = inputsOf(args, 'x', 'dy');
  const attrs = convAttrsOf(args.attrs);
  requireNHWC('Conv2DBackpropFilter', attrs.dataFormat);
  const filterShape = (args.attrs as { filterShape: number[] }).filterShape;
  const g = convGeometry(x.shape, filterShape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false);
  const out = convFilterGradSimdOnHeap(args.backend, x, dy, filterShape, g);
  if (out != null) {
    kernelPathCounts.convFilterGrad.simd++;
    return out;
  }
  kernelPathCounts.convFilterGrad.xnnpack++;
  return conv2dBackpropFilter(kernelPrims(args.backend as KernelBackend, BACKEND), x, dy, g);
};

export const conv2DBackpropFilterConfig: KernelConfig = { kernelName: 'Conv2DBackpropFilter', backendName: BACKEND, kernelFunc: conv2DBackpropFilter };
