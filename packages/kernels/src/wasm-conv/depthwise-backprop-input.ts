import type { KernelBackend, KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { convBackpropInput } from '../conv/backprop.js';
import { convGeometry } from '../conv/geometry.js';
import { kernelPrims } from '../prims.js';
import { BACKEND, convAttrsOf, inputsOf } from './heap-conv.js';

/**
 * DepthwiseConv2dNativeBackpropInput on wasm (tfjs-backend-wasm has none): a stride-1 depthwise
 * convolution of the zero-interleaved dy with the flipped filter, which XNNPACK runs
 * (conv/backprop.ts). Takes dilations.
 */
const depthwiseBackpropInput: KernelFunc = (args) => {
  const [dy, filter] = inputsOf(args, 'dy', 'filter');
  const attrs = convAttrsOf(args.attrs);
  const inputShape = (args.attrs as { inputShape: number[] }).inputShape;
  const g = convGeometry(inputShape, filter.shape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  return convBackpropInput(kernelPrims(args.backend as KernelBackend, BACKEND), dy, filter, g);
};

export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: BACKEND,
  kernelFunc: depthwiseBackpropInput,
};
