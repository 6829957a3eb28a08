import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { kernelPrims } from '../prims.js';
import { runOriginalKernel } from '../replaced-kernels.js';
import { isWasmHeapBackend } from '../wasm-heap.js';
import { poolInfo, type PoolAttrs } from './pool-info.js';

/**
 * AvgPoolGrad on wasm, replacing tfjs-backend-wasm 4.22's scalar loop at stride 1: a depthwise
 * convolution of dy with a constant 1/(kh·kw) filter (the pool's windows transposed are the same
 * windows), which XNNPACK runs. Other strides go to the backend's own kernel.
 */
const avgPoolGrad: KernelFunc = (args) => {
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const info = poolInfo(input.shape, args.attrs as unknown as PoolAttrs);
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || dy.dtype !== 'float32') return runOriginalKernel('wasm', 'AvgPoolGrad', args);
  const { filterHeight: kh, filterWidth: kw, inChannels: c } = info;
  const { top, left, bottom, right } = info.padInfo;
  const backend = args.backend;
  if (!isWasmHeapBackend(backend)) return runOriginalKernel('wasm', 'AvgPoolGrad', args);
  // dx[h] = Σ_p dy[h + top − p] / (kh·kw): a correlation of dy padded by kh − 1 − top above and
  // kh − 1 − bottom below (likewise for the width) with the (symmetric) constant filter.
  const filter = backend.makeOutput([kh, kw, c, 1], 'float32');
  backend.typedArrayFromHeap(filter).fill(1 / (kh * kw));
  try {
    return kernelPrims(backend as unknown as KernelBackend, 'wasm').depthwise(
      dy,
      filter,
      [1, 1],
      [1, 1],
      [
        [kh - 1 - top, kh - 1 - bottom],
        [kw - 1 - left, kw - 1 - right],
      ],
    );
  } finally {
    backend.disposeData(filter.dataId);
  }
};

export const avgPoolGradConfig: KernelConfig = { kernelName: 'AvgPoolGrad', backendName: 'wasm', kernelFunc: avgPoolGrad };
