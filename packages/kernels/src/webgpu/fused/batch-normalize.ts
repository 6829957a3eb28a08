import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { groupShape, type BatchNormAttrs } from '../../fused/batch-normalize.js';
import {
  ELEMENTWISE_WORKGROUP,
  REDUCTION_WORKGROUP,
  constantTensor,
  reductionSnippet,
  reductionTiling,
  runProgram,
  webGpuRunner,
  type WebGpuRunner,
} from './program.js';

/**
 * AdlBatchNormalize on webgpu: y = (x − mean)·inv and inv = 1/sqrt(var + ε) per group and channel
 * of x as [G, P, C]. Three launches: the statistics ([2, G, C]: means, then inverse deviations; a
 * workgroup per group and tile of channels, two passes over its columns: the mean, then the mean
 * of squared deviations, which float32 keeps accurate where Σx² − (Σx)² would cancel), y from
 * them, and a copy of the inverse deviations out (a program has one output).
 */
export const batchNormalizeWebGpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = (inputs as { x: TensorInfo }).x;
  const { groups, epsilon } = attrs as unknown as BatchNormAttrs;
  const [g, p, c] = groupShape(x, groups);
  const runner = webGpuRunner(backend);
  // No pixels: the statistics are 0/0, as on cpu.
  if (p === 0 || c === 0) return [constantTensor(runner, [...x.shape], 0), constantTensor(runner, [g, c], NaN)];
  const shape = [
    { name: 'pixels', type: 'i32', value: p },
    { name: 'channels', type: 'i32', value: c },
    { name: 'groups', type: 'i32', value: g },
  ] as const;
  const stats = statistics(runner, x, [g, p, c], epsilon);
  const y = runProgram(runner, {
    key: 'batch_normalize_y',
    inputs: [
      ['x', x],
      ['stats', stats],
    ],
    outputShape: [...x.shape],
    uniforms: shape,
    invocations: g * p * c,
    workgroupSize: ELEMENTWISE_WORKGROUP,
    code: `
      fn main(index : i32) {
        if (index < uniforms.groups * uniforms.pixels * uniforms.channels) {
          let channel = index % uniforms.channels + index / (uniforms.pixels * uniforms.channels) * uniforms.channels;
          result[index] = (x[index] - stats[channel]) * stats[uniforms.groups * uniforms.channels + channel];
        }
      }
    `,
  });
  const inv = runProgram(runner, {
    key: 'batch_normalize_inv',
    inputs: [['stats', stats]],
    outputShape: [g, c],
    uniforms: shape,
    invocations: g * c,
    workgroupSize: ELEMENTWISE_WORKGROUP,
    code: `
      fn main(index : i32) {
        let n = uniforms.groups * uniforms.channels;
        if (index < n) {
          result[index] = stats[n + index];
        }
      }
    `,
  });
  runner.disposeData(stats.dataId);
  return [y, inv];
};

/** [2, G, C]: the means, then the inverse deviations, of x as [G, P, C]. */
function statistics(runner: WebGpuRunner, x: TensorInfo, [g, p, c]: [number, number, number], epsilon: number): TensorInfo {
  const { tile, lanes } = reductionTiling(c);
  const tiles = Math.ceil(c / tile);
  return runProgram(runner, {
    key: `batch_normalize_stats_${tile}`,
    inputs: [['x', x]],
    outputShape: [2, g, c],
    uniforms: [
      { name: 'pixels', type: 'i32', value: p },
      { name: 'channels', type: 'i32', value: c },
      { name: 'groups', type: 'i32', value: g },
      { name: 'tiles', type: 'i32', value: tiles },
      { name: 'epsilon', type: 'f32', value: epsilon },
    ],
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
        let stride = ${lanes} * uniforms.channels;
        var sum = 0.0;
        for (var i = start + tileLane() * uniforms.channels; inRange && i < end; i = i + stride) {
          sum = sum + x[i];
        }
        let mean = sumLanes(sum, 0u) / f32(uniforms.pixels);
        var squares = 0.0;
        for (var i = start + tileLane() * uniforms.channels; inRange && i < end; i = i + stride) {
          let deviation = x[i] - mean;
          squares = squares + deviation * deviation;
        }
        let variance = sumLanes(squares, 1u) / f32(uniforms.pixels);
        if (inRange && tileLane() == 0) {
          let at = group * uniforms.channels + channel;
          result[at] = mean;
          result[uniforms.groups * uniforms.channels + at] = 1.0 / sqrt(variance + uniforms.epsilon);
        }
      }
    `,
  });
}
