import type { KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import {
  conv2dBackpropFilter,
  convBackpropInput,
  convGeometry,
  depthwiseBackpropFilter,
  type ConvAttrs,
  type ConvGeometry,
} from './conv-backprop.js';
import { convFilterGradSimd } from './conv-filter-grad.js';
import { convInputGradSimd } from './conv-input-grad.js';
import { depthwiseFilterGradSimd } from './depthwise-filter-grad.js';
import type { SimdKernels } from './simd-reduce.js';
import { isWasmHeapBackend, offsetOf, simdOnHeap, zeroedOutput, type WasmHeapBackend } from './wasm-heap.js';
import { kernelPrims } from './prims.js';

/**
 * Convolution backprop kernels for the wasm backend. Three are missing from tfjs-backend-wasm 4.22;
 * its Conv2DBackpropInput exists but is a naive loop ~6× slower than the forward convolution, so it
 * is replaced too. Where they can, they run as small hand-assembled WebAssembly SIMD functions over
 * the backend's own heap (simd-reduce.ts): the depthwise filter gradient (multiplier 1, C a multiple
 * of 4), the regular filter gradient (Co a multiple of 4) and the regular input gradient (Ci a
 * multiple of 4, up to a work size). Otherwise they are built from the backend's XNNPACK-backed
 * forward kernels (conv-backprop.ts). The regular kernels also read a `dilations` attribute, which
 * our gradient of Conv2D passes (tfjs's kernels of these names have none).
 */
const BACKEND = 'wasm';

function attrsOf(attrs: NamedAttrMap | undefined): ConvAttrs {
  return attrs as unknown as ConvAttrs;
}

function requireNHWC(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat === 'NCHW') {
    throw new Error(`wasm ${kernel}: dataFormat 'NCHW' is not supported (the wasm convolutions are NHWC only); use 'NHWC'`);
  }
}

type Args = Parameters<KernelFunc>[0];

/**
 * A filter gradient computed on the heap by one of the SIMD functions into a zeroed output; null
 * where SIMD or the backend's heap is unavailable.
 */
function filterGradOnHeap(
  backend: unknown,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: number[],
  compute: (k: SimdKernels, xOffset: number, dyOffset: number, outOffset: number) => void,
): TensorInfo | null {
  const simd = x.dtype === 'float32' && dy.dtype === 'float32' ? simdOnHeap(backend) : null;
  if (simd == null) return null;
  const { k, b } = simd;
  const out = zeroedOutput(b, filterShape);
  // Offsets are read after the allocation, which may grow (and so move) the heap.
  compute(k, offsetOf(b, x), offsetOf(b, dy), offsetOf(b, out));
  return out;
}

/** Depthwise filter gradient on the heap with the SIMD reduction; null where that path does not apply. */
function depthwiseFilterGradSimdOnHeap(backend: unknown, x: TensorInfo, dy: TensorInfo, filterShape: number[], g: ConvGeometry): TensorInfo | null {
  if (g.multiplier !== 1 || g.inC % 4 !== 0) return null;
  return filterGradOnHeap(backend, x, dy, filterShape, (k, xo, dyo, outo) => depthwiseFilterGradSimd(k.tapReduce, xo, dyo, outo, g));
}

/**
 * With a channel multiplier M > 1, output channel c·M + m reads input channel c: repeating each input
 * channel M times turns the problem into multiplier 1 over C·M channels, whose [k, k, C·M, 1] result
 * is the [k, k, C, M] gradient in the same memory order (the stacked supernet ops use M = edges).
 */
function depthwiseMultiplierFilterGradSimdOnHeap(
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
  // Each input channel M times in a row (a plain loop: the backend's Tile takes ~20× longer here).
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
  const out = depthwiseFilterGradSimdOnHeap(backend, repeated, dy, flatShape, flat);
  P.dispose(repeated);
  if (out == null) return null;
  const result = P.reshape(out, filterShape);
  P.dispose(out);
  return result;
}

/**
 * Whether the SIMD outer-product path is expected to beat the XNNPACK formulation. Measured with
 * `tools/bench/kernels.ts --suite filter-grads`: it won at every shape tried (C 8…320, 5×5…128×128,
 * 1×1 to dilated 5×5; 1.7–15× faster), so it is used whenever Co allows.
 */
export function convFilterGradPrefersSimd(g: ConvGeometry): boolean {
  return g.outC % 4 === 0;
}

/** `simd`: 'never' forces XNNPACK (benchmarks); 'auto' and 'always' take the SIMD path wherever it applies. */
export const convFilterGradOptions: { simd: 'auto' | 'always' | 'never' } = { simd: 'auto' };

/** Regular filter gradient on the heap with the SIMD outer products; null where that path does not apply. */
function convFilterGradSimdOnHeap(backend: unknown, x: TensorInfo, dy: TensorInfo, filterShape: number[], g: ConvGeometry): TensorInfo | null {
  const { simd } = convFilterGradOptions;
  // The SIMD path is preferred wherever it applies, so 'always' and 'auto' agree.
  if (simd === 'never' || !convFilterGradPrefersSimd(g)) return null;
  return filterGradOnHeap(backend, x, dy, filterShape, (k, xo, dyo, outo) => convFilterGradSimd(k.tapOuter, xo, dyo, outo, g));
}

/** How often each path of the depthwise filter gradient ran (diagnostics; tests check the fast path is taken). */
export const depthwiseFilterGradPaths = { simd: 0, xnnpack: 0 };

/** How often each path of the regular filter gradient ran. */
export const convFilterGradPaths = { simd: 0, xnnpack: 0 };

/** How often each path of the regular input gradient ran. */
export const convInputGradPaths = { simd: 0, xnnpack: 0 };

/**
 * Whether the SIMD input gradient is expected to beat the XNNPACK formulation (zero insertion, pads,
 * a flipped filter and a stride-1 convolution whose operator is created afresh on every call).
 * Measured on the supernet's shapes and the kernel benchmark's (2026-11-30, min of 7): SIMD wins or
 * ties at every one, most at the dilated 5×5 convolutions of the deep levels (e.g. [2,11,11,64] →
 * 320 channels: 12.5 against 38.4 ms; [3,41,41,16] → 80: 36.8 against 59.9 ms); an earlier limit of
 * 100 M multiply-adds sent exactly those to XNNPACK.
 */
export function convInputGradPrefersSimd(g: ConvGeometry): boolean {
  return g.inC % 4 === 0;
}

/** `simd`: 'never' forces XNNPACK (benchmarks); 'auto' and 'always' take the SIMD path wherever it applies. */
export const convInputGradOptions: { simd: 'auto' | 'always' | 'never' } = { simd: 'auto' };

/** Regular input gradient on the heap with the strided SIMD outer products; null where that path does not apply. */
function convInputGradSimdOnHeap(backend: unknown, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo | null {
  const { simd } = convInputGradOptions;
  // The SIMD path is preferred wherever it applies, so 'always' and 'auto' agree.
  if (simd === 'never' || !convInputGradPrefersSimd(g)) return null;
  const onHeap = dy.dtype === 'float32' && filter.dtype === 'float32' ? simdOnHeap(backend) : null;
  if (onHeap == null) return null;
  const P = kernelPrims(backend as KernelBackend, BACKEND);
  const filterT = P.transpose(filter, [0, 1, 3, 2]); // [kh, kw, Co, Ci]
  const dx = convInputGradOnHeap(onHeap, dy, filterT, g);
  P.dispose(filterT);
  return dx;
}

/**
 * The regular input gradient by `tapOuterStrided` into a new zeroed heap output: `filterT` is the
 * filter transposed to [kh, kw, Co, Ci]. (The pointwise Conv2D is this with W as `filterT`.)
 */
export function convInputGradOnHeap(onHeap: { k: SimdKernels; b: WasmHeapBackend }, dy: TensorInfo, filterT: TensorInfo, g: ConvGeometry): TensorInfo {
  const { k, b } = onHeap;
  const dx = zeroedOutput(b, [g.batch, g.inH, g.inW, g.inC]);
  // Offsets are read after the allocation, which may grow (and so move) the heap.
  convInputGradSimd(k.tapOuterStrided, offsetOf(b, dy), offsetOf(b, filterT), offsetOf(b, dx), g);
  return dx;
}

function inputsOf(args: Args, a: string, b: string): [TensorInfo, TensorInfo] {
  const inputs = args.inputs as Record<string, TensorInfo>;
  return [inputs[a] as TensorInfo, inputs[b] as TensorInfo];
}

const conv2DBackpropInputKernel: KernelFunc = (args) => {
  const [dy, filter] = inputsOf(args, 'dy', 'filter');
  const attrs = attrsOf(args.attrs);
  requireNHWC('Conv2DBackpropInput', attrs.dataFormat);
  const inputShape = (args.attrs as { inputShape: number[] }).inputShape;
  // `dilations` is not a tfjs attribute of this kernel: our gradient of Conv2D passes it (see conv-gradients.ts).
  const g = convGeometry(inputShape, filter.shape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false);
  const out = convInputGradSimdOnHeap(args.backend, dy, filter, g);
  if (out != null) {
    convInputGradPaths.simd++;
    return out;
  }
  convInputGradPaths.xnnpack++;
  return convBackpropInput(kernelPrims(args.backend as KernelBackend, BACKEND), dy, filter, g);
};

const conv2DBackpropFilterKernel: KernelFunc = (args) => {
  const [x, dy] = inputsOf(args, 'x', 'dy');
  const attrs = attrsOf(args.attrs);
  requireNHWC('Conv2DBackpropFilter', attrs.dataFormat);
  const filterShape = (args.attrs as { filterShape: number[] }).filterShape;
  const g = convGeometry(x.shape, filterShape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false);
  const out = convFilterGradSimdOnHeap(args.backend, x, dy, filterShape, g);
  if (out != null) {
    convFilterGradPaths.simd++;
    return out;
  }
  convFilterGradPaths.xnnpack++;
  return conv2dBackpropFilter(kernelPrims(args.backend as KernelBackend, BACKEND), x, dy, g);
};

const depthwiseBackpropInputKernel: KernelFunc = (args) => {
  const [dy, filter] = inputsOf(args, 'dy', 'filter');
  const attrs = attrsOf(args.attrs);
  const inputShape = (args.attrs as { inputShape: number[] }).inputShape;
  const g = convGeometry(inputShape, filter.shape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  return convBackpropInput(kernelPrims(args.backend as KernelBackend, BACKEND), dy, filter, g);
};

const depthwiseBackpropFilterKernel: KernelFunc = (args) => {
  const [x, dy] = inputsOf(args, 'x', 'dy');
  const attrs = attrsOf(args.attrs);
  const filterShape = (args.attrs as { filterShape: number[] }).filterShape;
  const g = convGeometry(x.shape, filterShape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  // XNNPACK's depthwise path with dy as a Ho×Wo filter is several times slower than the SIMD reduction.
  const out =
    depthwiseFilterGradSimdOnHeap(args.backend, x, dy, filterShape, g) ??
    depthwiseMultiplierFilterGradSimdOnHeap(args.backend as KernelBackend, x, dy, filterShape, attrs, g);
  if (out != null) {
    depthwiseFilterGradPaths.simd++;
    return out;
  }
  depthwiseFilterGradPaths.xnnpack++;
  return depthwiseBackpropFilter(kernelPrims(args.backend as KernelBackend, BACKEND), x, dy, g);
};

export const WASM_KERNELS: readonly KernelConfig[] = [
  { kernelName: 'Conv2DBackpropInput', backendName: BACKEND, kernelFunc: conv2DBackpropInputKernel },
  { kernelName: 'Conv2DBackpropFilter', backendName: BACKEND, kernelFunc: conv2DBackpropFilterKernel },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: BACKEND, kernelFunc: depthwiseBackpropInputKernel },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: BACKEND, kernelFunc: depthwiseBackpropFilterKernel },
];
