import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { SgdStepOptions } from '../../fused/sgd-step.js';
import { ELEMENTWISE_WORKGROUP, runProgram, size, webGpuRunner, type Uniform } from './program.js';

/**
 * AdlSgdStep on webgpu: `g ← g + wd·w; v ← μ·v + g; w ← w − lr·v` (Nesterov: `w ← w − lr·(g + μ·v)`),
 * outputs [w, v], or [w] without a momentum buffer. One launch per output: the buffer's first, and
 * the parameter's reads the new buffer rather than recomputing it, so both outputs agree. Each
 * operation is written as the cpu kernel rounds it (a GPU may still fuse a multiply-add).
 */
export const sgdStepWebGpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const { param, grad, buffer } = inputs as { param: TensorInfo; grad: TensorInfo; buffer?: TensorInfo };
  const o = attrs as unknown as SgdStepOptions;
  const runner = webGpuRunner(backend);
  const n = size(param.shape);
  const decay = o.weightDecay > 0;
  const uniforms: Uniform[] = [
    { name: 'count', type: 'i32', value: n },
    { name: 'learningRate', type: 'f32', value: o.learningRate },
    { name: 'momentum', type: 'f32', value: o.momentum },
    { name: 'weightDecay', type: 'f32', value: o.weightDecay },
  ];
  // g + wd·w, as a WGSL expression of the element at `index`.
  const decayed = decay ? 'gradient[index] + param[index] * uniforms.weightDecay' : 'gradient[index]';
  const common = { outputShape: [...param.shape], uniforms, invocations: n, workgroupSize: ELEMENTWISE_WORKGROUP };
  const elementwise = (body: string) => `
    fn main(index : i32) {
      if (index < uniforms.count) {
        let g = ${decayed};
        ${body}
      }
    }
  `;
  if (buffer == null) {
    const bindings = [['param', param] as const, ['gradient', grad] as const];
    return [
      runProgram(runner, {
        ...common,
        key: `sgd_param_${+decay}`,
        inputs: bindings,
        code: elementwise('result[index] = param[index] - g * uniforms.learningRate;'),
      }),
    ];
  }
  const velocity = runProgram(runner, {
    ...common,
    key: `sgd_velocity_${+decay}`,
    // An input the WGSL never names is dropped from the pipeline's layout and then fails to bind: w only with decay.
    inputs: [...(decay ? [['param', param] as const] : []), ['gradient', grad], ['velocity', buffer]],
    code: elementwise('result[index] = velocity[index] * uniforms.momentum + g;'),
  });
  const direction = o.nesterov ? 'g + newVelocity[index] * uniforms.momentum' : 'newVelocity[index]';
  const newParam = runProgram(runner, {
    ...common,
    key: `sgd_param_momentum_${+decay}_${+o.nesterov}`,
    inputs: [
      ['param', param],
      ['gradient', grad],
      ['newVelocity', velocity],
    ],
    code: elementwise(`let direction = ${direction};\n result[index] = param[index] - direction * uniforms.learningRate;`),
  });
  return [newParam, velocity];
};
