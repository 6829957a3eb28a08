import type { KernelConfig } from '@tensorflow/tfjs';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.js';
import { depthwiseBackpropFilterConfig } from './depthwise-backprop-filter.js';
import { depthwiseBackpropInputConfig } from './depthwise-backprop-input.js';
import { pointwiseConv2DConfig } from './pointwise-conv2d.js';

/**
 * The convolution backprop kernels for the wasm backend: three are missing from tfjs-backend-wasm
 * 4.22, and its Conv2DBackpropInput is a naive loop, so it is replaced too. All take dilations, so
 * our Conv2D / DepthwiseConv2dNative gradients send dilated convolutions here as well.
 */
export const WASM_CONV_BACKPROP_KERNELS: readonly KernelConfig[] = [
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  depthwiseBackpropFilterConfig,
];

/** Conv2D for 1×1 stride-1 filters, replacing the backend's own (which serves the other cases). */
export const WASM_CONV_FORWARD_KERNELS: readonly KernelConfig[] = [pointwiseConv2DConfig];
