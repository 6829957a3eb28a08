import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { runOriginalKernel } from '../replaced-kernels.js';
import { isWasmHeapBackend } from '../wasm-heap.js';

/**
 * Identity on wasm (what `tf.clone` and every tensor a kernel saves for its gradient run): the
 * backend's own copies the whole buffer; ours shares it, as the cpu backend and wasm's own Reshape do
 * (buffers are never written after the kernel that made them returns). A supernet step saves tens of
 * thousands of tensors. String tensors keep the backend's kernel.
 */
const identity: KernelFunc = (args) => {
  const x = (args.inputs as { x: TensorInfo }).x;
  if (x.dtype === 'string' || !isWasmHeapBackend(args.backend)) return runOriginalKernel('wasm', 'Identity', args);
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

export const identityConfig: KernelConfig = { kernelName: 'Identity', backendName: 'wasm', kernelFunc: identity };
