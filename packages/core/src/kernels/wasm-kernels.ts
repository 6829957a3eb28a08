import type { KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import {
  conv2dBackpropFilter,
  convBackpropInput,
  convGeometry,
  depthwiseBackpropFilter,
  type ConvGeometry,
  type ConvPad,
} from './conv-backprop.js';
import { depthwiseFilterGradSimd } from './depthwise-filter-grad.js';
import { isWasmMemory, tapReduceFor, type WasmMemory } from './simd-reduce.js';
import { kernelPrims } from './prims.js';

/**
 * Convolution backprop kernels for the wasm backend, built from its own XNNPACK-backed forward
 * kernels. Three are missing from tfjs-backend-wasm 4.22; its Conv2DBackpropInput exists but is a
 * naive loop ~6× slower than the forward convolution, so it is replaced too. The depthwise filter
 * gradient, which XNNPACK can only do slowly (dy as a huge Ho×Wo depthwise filter), runs instead as
 * a small WebAssembly SIMD reduction over the backend's own heap (simd-reduce.ts) when the
 * multiplier is 1 and the channels a multiple of 4.
 */
const BACKEND = 'wasm';

interface ConvAttrs {
  strides: number | [number, number];
  pad: ConvPad;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function attrsOf(attrs: NamedAttrMap | undefined): ConvAttrs {
  return attrs as unknown as ConvAttrs;
}

function requireNHWC(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat === 'NCHW') {
    throw new Error(`wasm ${kernel}: dataFormat 'NCHW' is not supported (the wasm convolutions are NHWC only); use 'NHWC'`);
  }
}

type Args = Parameters<KernelFunc>[0];

/** The parts of tfjs-backend-wasm's BackendWasm (4.22) used to work on its heap in place. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  getMemoryOffset(dataId: object): number;
  /** The Emscripten module: its WebAssembly.Memory is `asm.memory` (Emscripten 3.1) or `wasmMemory`. */
  wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown };
}

function heapMemory(b: WasmHeapBackend): WasmMemory | null {
  const m = b.wasm?.asm?.memory ?? b.wasm?.wasmMemory;
  return isWasmMemory(m) ? m : null;
}

/** Depthwise filter gradient on the heap with the SIMD reduction; null where that path does not apply. */
function depthwiseFilterGradSimdOnHeap(backend: unknown, x: TensorInfo, dy: TensorInfo, filterShape: number[], g: ConvGeometry): TensorInfo | null {
  if (g.multiplier !== 1 || g.inC % 4 !== 0 || !isWasmHeapBackend(backend)) return null;
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  const memory = heapMemory(backend);
  const tapReduce = memory == null ? null : tapReduceFor(memory);
  if (tapReduce == null) return null;
  const out = backend.makeOutput(filterShape, 'float32');
  backend.typedArrayFromHeap(out).fill(0);
  depthwiseFilterGradSimd(tapReduce, backend.getMemoryOffset(x.dataId), backend.getMemoryOffset(dy.dataId), backend.getMemoryOffset(out.dataId), g);
  return out;
}

function isWasmHeapBackend(b: unknown): b is WasmHeapBackend {
  const o = b as Partial<WasmHeapBackend> | null;
  return typeof o?.makeOutput === 'function' && typeof o.typedArrayFromHeap === 'function' && typeof o.getMemoryOffset === 'function';
}

/** How often each path of the depthwise filter gradient ran (diagnostics; tests check the fast path is taken). */
export const depthwiseFilterGradPaths = { simd: 0, xnnpack: 0 };

function inputsOf(args: Args, a: string, b: string): [TensorInfo, TensorInfo] {
  const inputs = args.inputs as Record<string, TensorInfo>;
  return [inputs[a] as TensorInfo, inputs[b] as TensorInfo];
}

const conv2DBackpropInputKernel: KernelFunc = (args) => {
  const [dy, filter] = inputsOf(args, 'dy', 'filter');
  const attrs = attrsOf(args.attrs);
  requireNHWC('Conv2DBackpropInput', attrs.dataFormat);
  const inputShape = (args.attrs as { inputShape: number[] }).inputShape;
  const g = convGeometry(inputShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false);
  return convBackpropInput(kernelPrims(args.backend as KernelBackend, BACKEND), dy, filter, g);
};

const conv2DBackpropFilterKernel: KernelFunc = (args) => {
  const [x, dy] = inputsOf(args, 'x', 'dy');
  const attrs = attrsOf(args.attrs);
  requireNHWC('Conv2DBackpropFilter', attrs.dataFormat);
  const filterShape = (args.attrs as { filterShape: number[] }).filterShape;
  const g = convGeometry(x.shape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false);
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
  const out = depthwiseFilterGradSimdOnHeap(args.backend, x, dy, filterShape, g);
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
