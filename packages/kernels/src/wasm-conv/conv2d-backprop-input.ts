import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { convBackpropInput } from '../conv/backprop.js';
import { convGeometry, type ConvGeometry } from '../conv/geometry.js';
import { convInputGradSimd } from '../conv/simd-input-grad.js';
import { kernelPathCounts } from '../path-counts.js';
import { kernelPrims } from '../prims.js';
import { kernelTuning } from '../tuning.js';
import { offsetOf, simdOnHeap, zeroedOutput, type HeapSimd } from '../wasm-heap.js';
import { BACKEND, convAttrsOf, inputsOf, requireNHWC } from './heap-conv.js';

/**
 * Conv2DBackpropInput on wasm, replacing tfjs-backend-wasm's naive loop: the strided SIMD outer
 * products (`tapOuterStrided`) over the heap where Ci is a multiple of 4, else the XNNPACK
 * formulation (a stride-1 convolution of the zero-interleaved dy, conv/backprop.ts). It also reads
 * a `dilations` attribute, which our gradient of Conv2D passes (tfjs's kernel has none).
 */

/**
 * Whether the SIMD input gradient is expected to beat the XNNPACK formulation (zero insertion, pads,
 * a flipped filter and a stride-1 convolution whose operator is created afresh on every call): it
 * wins or ties at every shape measured, so wherever Ci allows (docs/design/kernels.md).
 */
export function convInputGradPrefersSimd(g: ConvGeometry): boolean {
  return g.inC % 4 === 0;
}

/**
 * The regular input gradient by `tapOuterStrided` into a new zeroed heap output: `filterT` is the
 * filter transposed to [kh, kw, Co, Ci]. (The pointwise Conv2D is this with W as `filterT`.)
 */
export function convInputGradOnHeap(onHeap: HeapSimd, dy: TensorInfo, filterT: TensorInfo, g: ConvGeometry): TensorInfo {
  const { k, b } = onHeap;
  const dx = zeroedOutput(b, [g.batch, g.inH, g.inW, g.inC]);
  // Offsets are read after the allocation, which may grow (and so move) the heap.
  convInputGradSimd(k.tapOuterStrided, offsetOf(b, dy), offsetOf(b, filterT), offsetOf(b, dx), g);
  return dx;
}

/** Regular input gradient on the heap with the strided SIMD outer products; null where that path does not apply. */
function convInputGradSimdOnHeap(backend: unknown, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo | null {
  if (kernelTuning.convInputGradSimd === 'never' || !convInputGradPrefersSimd(g)) return null;
  const onHeap = dy.dtype === 'float32' && filter.dtype === 'float32' ? simdOnHeap(backend) : null;
  if (onHeap == null) return null;
  const P = kernelPrims(backend as KernelBackend, BACKEND);
  const filterT = P.transpose(filter, [0, 1, 3, 2]); // [kh, kw, Co, Ci]
  const dx = convInputGradOnHeap(onHeap, dy, filterT, g);
  P.dispose(filterT);
  return dx;
}

const conv2DBackpropInput: KernelFunc = (args) => {
  const [dy, filter] = inputsOf(args, 'dy', 'filter');
  const attrs = convAttrsOf(args.attrs);
  requireNHWC('Conv2DBackpropInput', attrs.dataFormat);
  const inputShape = (args.attrs as { inputShape: number[] }).inputShape;
  // `dilations` is not a tfjs attribute of this kernel: our gradient of Conv2D passes it (see conv/gradients.ts).
  const g = convGeometry(inputShape, filter.shape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false);
  const out = convInputGradSimdOnHeap(args.backend, dy, filter, g);
  if (out != null) {
    kernelPathCounts.convInputGrad.simd++;
    return out;
  }
  kernelPathCounts.convInputGrad.xnnpack++;
  return convBackpropInput(kernelPrims(args.backend as KernelBackend, BACKEND), dy, filter, g);
};

export const conv2DBackpropInputConfig: KernelConfig = { kernelName: 'Conv2DBackpropInput', backendName: BACKEND, kernelFunc: conv2DBackpropInput };
