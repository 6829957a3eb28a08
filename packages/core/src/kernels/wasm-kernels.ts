import type { KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { conv2dBackpropFilter, convBackpropInput, convGeometry, depthwiseBackpropFilter, type ConvPad } from './conv-backprop.js';
import { kernelPrims } from './prims.js';

/**
 * Convolution backprop kernels for the wasm backend, built from its own XNNPACK-backed forward
 * kernels. Three are missing from tfjs-backend-wasm 4.22; its Conv2DBackpropInput exists but is a
 * naive loop ~6× slower than the forward convolution, so it is replaced too.
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
  return depthwiseBackpropFilter(kernelPrims(args.backend as KernelBackend, BACKEND), x, dy, g);
};

export const WASM_KERNELS: readonly KernelConfig[] = [
  { kernelName: 'Conv2DBackpropInput', backendName: BACKEND, kernelFunc: conv2DBackpropInputKernel },
  { kernelName: 'Conv2DBackpropFilter', backendName: BACKEND, kernelFunc: conv2DBackpropFilterKernel },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: BACKEND, kernelFunc: depthwiseBackpropInputKernel },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: BACKEND, kernelFunc: depthwiseBackpropFilterKernel },
];
