import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { groupShape, type BatchNormAttrs } from '../../fused/batch-normalize.js';
import { ELEMENTWISE_WORKGROUP, REDUCTION_WORKGROUP, constantTensor, reductionSnippet, reductionTiling, runProgram, webGpuRunner } from './program.js';

/**
 * AdlBatchNormalizeGrad on webgpu: dx = (dy − mean(dy) − y·mean(dy·y))·inv per group and channel
 * of [G, P, C]. Two launches: the two means ([2, G, C]; a workgroup per group and tile of
 * channels, one pass), then dx element-wise.
 */
export const batchNormalizeGradWebGpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, y, inv } = inputs as { dy: TensorInfo; y: TensorInfo; inv: TensorInfo };
  const { groups } = attrs as unknown as BatchNormAttrs;
  const [g, p, c] = groupShape(y, groups);
  const runner = webGpuRunner(backend);
  if (p === 0) return constantTensor(runner, [...y.shape], 0);
  const { tile, lanes } = reductionTiling(c);
  const tiles = Math.ceil(c / tile);
  const shape = [
    { name: 'pixels', type: 'i32', value: p },
    { name: 'channels', type: 'i32', value: c },
    { name: 'groups', type: 'i32', value: g },
    { name: 'tiles', type: 'i32', value: tiles },
  ] as const;
  const means = runProgram(runner, {
    key: `batch_normalize_grad_means_${tile}`,
    inputs: [
      ['dy', dy],
      ['y', y],
    ],
    outputShape: [2, g, c],
    uniforms: shape,
    invocations: g * tiles * REDUCTION_WORKGROUP,
    workgroupSize: REDUCTION_WORKGROUP,
    code: `
      ${reductionSnippet(tile, lanes, 2)}
      fn main(index : i32) {
        let group = workgroupIndex() / uniforms.tiles;
        let channel = (workgroupIndex() % uniforms.tiles) * ${tile} + tileColumn();
        let inRange = group < uniforms.groups && channel < uniforms.channels;
        let start = group * uniforms.pixels * uniforms.channels + channel;
        let end = start + uniforms.pixels * uniforms.channels;
        var sumDy = 0.0;
        var sumDyY = 0.0;
        for (var i = start + tileLane() * uniforms.channels; inRange && i < end; i = i + ${lanes} * uniforms.channels) {
          let d = dy[i];
          sumDy = sumDy + d;
          sumDyY = sumDyY + d * y[i];
        }
        let meanDy = sumLanes(sumDy, 0u) / f32(uniforms.pixels);
        let meanDyY = sumLanes(sumDyY, 1u) / f32(uniforms.pixels);
        if (inRange && tileLane() == 0) {
          let at = group * uniforms.channels + channel;
          result[at] = meanDy;
          result[uniforms.groups * uniforms.channels + at] = meanDyY;
        }
      }
    `,
  });
  const dx = runProgram(runner, {
    key: 'batch_normalize_grad_dx',
    inputs: [
      ['dy', dy],
      ['y', y],
      ['inv', inv],
      ['means', means],
    ],
    outputShape: [...y.shape],
    uniforms: shape,
    invocations: g * p * c,
    workgroupSize: ELEMENTWISE_WORKGROUP,
    code: `
      fn main(index : i32) {
        if (index < uniforms.groups * uniforms.pixels * uniforms.channels) {
          let channel = index % uniforms.channels + index / (uniforms.pixels * uniforms.channels) * uniforms.channels;
          let meanDyY = means[uniforms.groups * uniforms.channels + channel];
          result[index] = (dy[index] - means[channel] - y[index] * meanDyY) * inv[channel];
        }
      }
    `,
  });
  runner.disposeData(means.dataId);
  return dx;
};
