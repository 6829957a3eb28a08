import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { REDUCTION_WORKGROUP, constantTensor, reductionSnippet, reductionTiling, runProgram, webGpuRunner } from './program.js';

/**
 * AdlColumnDot on webgpu: Σ over rows of a ⊙ b for a [R, E, K] and b [R, E, K] or [R, 1, K] (one
 * row of K shared by the E groups), [E, K], in one launch: a workgroup per tile of the E·K output
 * columns, its lanes summing strided rows in float32, then a tree across lanes.
 */
export const columnDotWebGpu: KernelFunc = ({ inputs, backend }) => {
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const [rows, groups, k] = a.shape as [number, number, number];
  const shared = b.shape[1] === 1 && groups > 1;
  const runner = webGpuRunner(backend);
  const columns = groups * k;
  if (rows === 0 || columns === 0) return constantTensor(runner, [groups, k], 0);
  const { tile, lanes } = reductionTiling(columns);
  const tiles = Math.ceil(columns / tile);
  // b's element for row r and output column `column`: its own, or the shared row's channel.
  const bIndex = shared ? 'row * uniforms.channels + column % uniforms.channels' : 'row * uniforms.columns + column';
  return runProgram(runner, {
    key: `column_dot_${tile}_${+shared}`,
    inputs: [
      ['a', a],
      ['b', b],
    ],
    outputShape: [groups, k],
    uniforms: [
      { name: 'rows', type: 'i32', value: rows },
      { name: 'columns', type: 'i32', value: columns },
      { name: 'channels', type: 'i32', value: k },
    ],
    invocations: tiles * REDUCTION_WORKGROUP,
    workgroupSize: REDUCTION_WORKGROUP,
    code: `
      ${reductionSnippet(tile, lanes, 1)}
      fn main(index : i32) {
        let column = workgroupIndex() * ${tile} + tileColumn();
        let inRange = column < uniforms.columns;
        var sum = 0.0;
        for (var row = tileLane(); inRange && row < uniforms.rows; row = row + ${lanes}) {
          sum = sum + a[row * uniforms.columns + column] * b[${bIndex}];
        }
        let total = sumLanes(sum, 0u);
        if (inRange && tileLane() == 0) {
          result[column] = total;
        }
      }
    `,
  });
};
