import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { ELEMENTWISE_WORKGROUP, runProgram, size, webGpuRunner } from './program.js';

/** AdlReluGrad on webgpu: dy where x > 0, else 0 (a NaN x gives 0, as on cpu), in one launch. */
export const reluGradWebGpu: KernelFunc = ({ inputs, backend }) => {
  const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
  const n = size(x.shape);
  return runProgram(webGpuRunner(backend), {
    key: 'relu_grad',
    inputs: [
      ['dy', dy],
      ['x', x],
    ],
    outputShape: [...x.shape],
    uniforms: [{ name: 'count', type: 'i32', value: n }],
    invocations: n,
    workgroupSize: ELEMENTWISE_WORKGROUP,
    code: `
      fn main(index : i32) {
        if (index < uniforms.count) {
          result[index] = select(0.0, dy[index], x[index] > 0.0);
        }
      }
    `,
  });
};
