import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { runOriginalKernel } from '../replaced-kernels.js';
import { webGpuRunner } from './fused/program.js';

/**
 * AddN on webgpu in groups the device can bind. tfjs-backend-webgpu 4.22 binds every input and the
 * output as storage buffers of one shader, so a sum of more inputs than the device's per-stage limit
 * minus one (15 under WebGPU's default limit of 16; the supernet's nodes sum up to 20 edges) fails
 * validation and yields garbage. Sums of groups are summed again until one group remains.
 */

const addN: KernelFunc = (args) => {
  const backend = webGpuRunner(args.backend);
  const group = backend.device.limits.maxStorageBuffersPerShaderStage - 1;
  let inputs = args.inputs as unknown as TensorInfo[];
  const partials: TensorInfo[] = [];
  while (inputs.length > group) {
    const sums: TensorInfo[] = [];
    for (let i = 0; i < inputs.length; i += group) {
      const chunk = inputs.slice(i, i + group);
      sums.push(
        chunk.length === 1 ? chunk[0]! : (runOriginalKernel('webgpu', 'AddN', { ...args, inputs: chunk as unknown as typeof args.inputs }) as TensorInfo),
      );
    }
    partials.push(...sums.filter((s) => !inputs.includes(s)));
    inputs = sums;
  }
  const result = runOriginalKernel('webgpu', 'AddN', { ...args, inputs: inputs as unknown as typeof args.inputs }) as TensorInfo;
  for (const partial of partials) backend.disposeData(partial.dataId);
  return result;
};

export const addNConfig: KernelConfig = { kernelName: 'AddN', backendName: 'webgpu', kernelFunc: addN };
