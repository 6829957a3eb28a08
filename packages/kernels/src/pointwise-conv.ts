import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { convGeometry, type ConvAttrs } from './conv-backprop.js';
import { KernelReplacements } from './replaced-kernels.js';
import { simdOnHeap } from './wasm-heap.js';
import { convInputGradOnHeap } from './wasm-kernels.js';

/**
 * Conv2D on wasm for 1×1 filters at stride 1 (the supernet's pointwise convolutions): y = x · W per
 * pixel, which is exactly the input gradient of a 1×1 convolution from Co to Ci channels with the
 * filter already in the transposed layout that gradient reads ([1, 1, Ci, Co]). So it runs as the
 * SIMD input-gradient outer products over the heap, ~20 % less time than XNNPACK's operator at the
 * supernet's shapes (8–320 channels, 11×11 to 81×81 pixels; see docs/benchmarks.md), which on
 * tfjs-backend-wasm is created afresh for every filter tensor. Co must be a multiple of 4 (the
 * vector lanes); anything else (other filters, strides, explicit pads, NCHW, non-float32) goes to
 * the backend's own kernel.
 */
const BACKEND = 'wasm';

/** `simd`: 'never' leaves every Conv2D to the backend's own kernel (benchmarks, A/B tests). */
export const pointwiseConvOptions: { simd: 'auto' | 'never' } = { simd: 'auto' };

/** How often each path ran (diagnostics; tests check which one a shape takes). */
export const pointwiseConvPaths = { simd: 0, backend: 0 };

type Args = Parameters<KernelFunc>[0];

function pointwiseOnHeap(args: Args): TensorInfo | null {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs;
  if (pointwiseConvOptions.simd === 'never' || attrs.dataFormat === 'NCHW') return null;
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
    pointwiseConvPaths.simd++;
    return y;
  }
  pointwiseConvPaths.backend++;
  return POINTWISE_CONV_KERNELS.fallback('Conv2D', args);
};

const POINTWISE_CONV_KERNELS = new KernelReplacements(BACKEND, [['Conv2D', conv2DKernel]]);

/** Our Conv2D config; `rememberOriginalConvKernel` first keeps the backend's own for the fallback. */
export const WASM_POINTWISE_CONV_KERNELS = POINTWISE_CONV_KERNELS.configs;

/** Keeps tfjs-backend-wasm's Conv2D (call before replacing it). */
export function rememberOriginalConvKernel(): void {
  POINTWISE_CONV_KERNELS.remember();
}
