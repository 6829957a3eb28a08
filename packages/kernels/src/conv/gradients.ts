import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, Tensor, Tensor4D } from '@tensorflow/tfjs';
import { tensorPrims } from '../prims.js';
import { WASM_CONV_BACKPROP_KERNELS } from '../wasm-conv/kernels.js';
import { conv2dBackpropFilter, convBackpropInput, depthwiseBackpropFilter } from './backprop.js';
import { convGeometry, type ConvAttrs } from './geometry.js';

/**
 * Gradients of Conv2D and DepthwiseConv2dNative that also handle dilation > 1 (tfjs 4.22 asserts
 * dilation 1). Dilation 1 keeps the backend's own backprop kernels, as does any dilation on wasm
 * (our kernels there take dilations); dilation > 1 elsewhere is computed exactly with forward
 * convolutions (see backprop.ts), which every backend supports with dilation.
 */

function isOne(v: number | [number, number] | undefined): boolean {
  return v == null || (typeof v === 'number' ? v === 1 : v[0] === 1 && v[1] === 1);
}

const toNHWC = (t: Tensor4D): Tensor4D => tf.transpose(t, [0, 2, 3, 1]);
const toNCHW = (t: Tensor4D): Tensor4D => tf.transpose(t, [0, 3, 1, 2]);

/** Runs a dilated-gradient computation in NHWC whatever the data format, freeing every intermediate. */
function dilatedGrad(x: Tensor4D, filter: Tensor4D, dy: Tensor4D, attrs: ConvAttrs, depthwise: boolean, which: 'x' | 'filter'): Tensor {
  return tf.tidy(() => {
    const nchw = attrs.dataFormat === 'NCHW';
    const xs = nchw ? toNHWC(x) : x;
    const dys = nchw ? toNHWC(dy) : dy;
    const g = convGeometry(xs.shape, filter.shape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, depthwise);
    const P = tensorPrims();
    if (which === 'x') {
      const dx = convBackpropInput(P, dys, filter, g) as Tensor4D;
      return nchw ? toNCHW(dx) : dx;
    }
    return (depthwise ? depthwiseBackpropFilter(P, xs, dys, g) : conv2dBackpropFilter(P, xs, dys, g)) as Tensor;
  });
}

/** True when the active backend runs our wasm backprop kernels named `prefix`…, which also take dilations. */
function ourKernelsActive(prefix: string): boolean {
  const backend = tf.getBackend();
  return WASM_CONV_BACKPROP_KERNELS.every(
    (c) => !c.kernelName.startsWith(prefix) || (c.backendName === backend && tf.getKernel(c.kernelName, backend)?.kernelFunc === c.kernelFunc),
  );
}

/** The backend's `${prefix}BackpropInput` / `…Filter` kernels as the gradients of x and filter. */
function backpropKernels(prefix: string, x: Tensor4D, filter: Tensor4D, dy: Tensor4D, attrs: Record<string, unknown>) {
  return {
    x: () => tf.engine().runKernel(`${prefix}BackpropInput`, { dy, filter }, { ...attrs, inputShape: x.shape } as unknown as NamedAttrMap) as Tensor,
    filter: () => tf.engine().runKernel(`${prefix}BackpropFilter`, { x, dy }, { ...attrs, filterShape: filter.shape } as unknown as NamedAttrMap) as Tensor,
  };
}

/** Both gradients by the dilated formulation (`dilatedGrad`), for backends whose kernels take no dilations. */
function dilatedGrads(x: Tensor4D, filter: Tensor4D, dy: Tensor4D, attrs: ConvAttrs, depthwise: boolean) {
  return {
    x: () => dilatedGrad(x, filter, dy, attrs, depthwise, 'x'),
    filter: () => dilatedGrad(x, filter, dy, attrs, depthwise, 'filter'),
  };
}

export const conv2DGradConfig: GradConfig = {
  kernelName: 'Conv2D',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], rawAttrs: NamedAttrMap) => {
    const [x, filter] = saved as [Tensor4D, Tensor4D];
    const attrs = rawAttrs as unknown as ConvAttrs;
    // Dilation 1 on any backend, or (NHWC) any dilation with our wasm kernels, which read `dilations`.
    if (isOne(attrs.dilations) || (attrs.dataFormat !== 'NCHW' && ourKernelsActive('Conv2DBackprop'))) {
      const { strides, pad, dataFormat, dimRoundingMode } = attrs;
      return backpropKernels('Conv2D', x, filter, dy as Tensor4D, { strides, pad, dataFormat, dimRoundingMode, dilations: attrs.dilations ?? 1 });
    }
    return dilatedGrads(x, filter, dy as Tensor4D, attrs, false);
  },
};

export const depthwiseConv2dNativeGradConfig: GradConfig = {
  kernelName: 'DepthwiseConv2dNative',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], rawAttrs: NamedAttrMap) => {
    const [x, filter] = saved as [Tensor4D, Tensor4D];
    const attrs = rawAttrs as unknown as ConvAttrs;
    // Dilation 1 on any backend, or any dilation with our wasm kernels: the backprop kernels.
    if (isOne(attrs.dilations) || ourKernelsActive('DepthwiseConv2dNativeBackprop')) {
      const { strides, pad, dimRoundingMode } = attrs;
      return backpropKernels('DepthwiseConv2dNative', x, filter, dy as Tensor4D, { strides, pad, dimRoundingMode, dilations: attrs.dilations ?? 1 });
    }
    // The depthwise kernels (and this formulation) are NHWC only in tfjs.
    return dilatedGrads(x, filter, dy as Tensor4D, { ...attrs, dataFormat: 'NHWC' }, true);
  },
};

export const CONV_GRADIENTS: readonly GradConfig[] = [conv2DGradConfig, depthwiseConv2dNativeGradConfig];
