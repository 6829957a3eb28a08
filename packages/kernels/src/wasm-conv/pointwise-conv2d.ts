import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { convGeometry, type ConvAttrs } from '../conv/geometry.js';
import { kernelPathCounts } from '../path-counts.js';
import { runOriginalKernel } from '../replaced-kernels.js';
import { kernelTuning } from '../tuning.js';
import { simdOnHeap } from '../wasm-heap.js';
import { convInputGradOnHeap } from './conv2d-backprop-input.js';
import { BACKEND, type KernelArgs } from './heap-conv.js';

/**
 * Conv2D on wasm for 1×1 filters at stride 1 (the supernet's pointwise convolutions): y = x · W per
 * pixel, which is exactly the input gradient of a 1×1 convolution from Co to Ci channels with the
 * filter already in the transposed layout that gradient reads ([1, 1, Ci, Co]). So it runs as the
 * SIMD input-gradient outer products over the heap, faster at the supernet's shapes than XNNPACK's
 * operator, which tfjs-backend-wasm creates afresh for every filter tensor (docs/design/kernels.md).
 * Co must be a multiple of 4 (the vector lanes); anything else (other filters, strides, explicit
 * pads, NCHW, non-float32) goes to the backend's own kernel.
 */
function pointwiseOnHeap(args: KernelArgs): TensorInfo | null {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs;
  if (kernelTuning.pointwiseConvSimd === 'never' || attrs.dataFormat === 'NCHW') return null;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const strides = Array.isArray(attrs.strides) ? attrs.strides : [attrs.strides, attrs.strides];
  // 'same' and 'valid' add no padding to a 1×1 filter; explicit or numeric pads may.
  const unpadded = attrs.pad === 'same' || attrs.pad === 'valid' || attrs.pad === 0;
  if (kh !== 1 || kw !== 1 || strides[0] !== 1 || strides[1] !== 1 || !unpadded || co % 4 !== 0) return null;
  const onHeap = simdOnHeap(args.backend);
  if (onHeap == null) return null;
  const [n, h, w] = x.shape as [number, number, number, number];
  // The input gradient of a 1×1 convolution Co → Ci: its dy is our x, its dx our y.
  const g = convGeometry([n, h, w, co], [1, 1, co, ci], 1, 1, 'valid', undefined, false);
  return convInputGradOnHeap(onHeap, x, filter, g);
}

const conv2DKernel: KernelFunc = (args) => {
  const y = pointwiseOnHeap(args);
  if (y != null) {
    kernelPathCounts.pointwiseConv.simd++;
    return y;
  }
  kernelPathCounts.pointwiseConv.backend++;
  return runOriginalKernel(BACKEND, 'Conv2D', args);
};

/** Our Conv2D; `registerMissingKernels` first keeps the backend's own for the other cases. */
export const pointwiseConv2DConfig: KernelConfig = { kernelName: 'Conv2D', backendName: BACKEND, kernelFunc: conv2DKernel };
