import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { ELEMENTWISE_WORKGROUP, runProgram, webGpuRunner, type WebGpuRunner } from './program.js';

/**
 * AdlEdgeWeightedSum on webgpu: Σ_k w[k, e] · t_k[p, e, c] for weights [K, E] and terms [P, E, C] or
 * [P, 1, C] (one term for every edge), out [P, E, C]. One launch when the device can bind every
 * term at once; otherwise the terms in chunks, each launch adding its chunk to the sum so far.
 */
export const edgeWeightedSumWebGpu: KernelFunc = ({ inputs, backend }) => {
  const [weights, ...terms] = inputs as unknown as TensorInfo[];
  const [, edges] = weights!.shape as [number, number];
  const [p, , c] = terms[0]!.shape as [number, number, number];
  const runner = webGpuRunner(backend);
  // Bindings per launch: the output, the weights, the sum so far (after the first), the terms; at
  // most 32 terms a launch, to bound the shader's size where the device allows many more.
  const bindings = Math.min(runner.device.limits.maxStorageBuffersPerShaderStage, 35);
  let sum: TensorInfo | undefined;
  for (let first = 0; first < terms.length || sum == null;) {
    const count = Math.max(1, Math.min(terms.length - first, bindings - (sum ? 3 : 2)));
    const next = weightedSumChunk(runner, weights!, terms.slice(first, first + count), first, sum, [p, edges, c]);
    if (sum) runner.disposeData(sum.dataId);
    sum = next;
    first += count;
  }
  return sum;
};

/** (sum +) Σ over `terms`, the chunk of terms from index `first`, weighted by their rows of `weights`. */
function weightedSumChunk(
  runner: WebGpuRunner,
  weights: TensorInfo,
  terms: readonly TensorInfo[],
  first: number,
  sum: TensorInfo | undefined,
  [p, edges, c]: [number, number, number],
): TensorInfo {
  // A term shared by the edges is read at its pixel's row of C; the others at the output's index.
  const shared = terms.map((t) => t.shape[1] === 1 && edges > 1);
  const products = terms.map(
    (_, k) => `w[(uniforms.firstTerm + ${k}) * uniforms.edges + edge] * t${k}[${shared[k] ? 'pixel * uniforms.channels + channel' : 'index'}]`,
  );
  return runProgram(runner, {
    key: `edge_weighted_sum_${+(sum != null)}_${shared.map(Number).join('')}`,
    inputs: [['w', weights] as const, ...(sum ? [['partial', sum] as const] : []), ...terms.map((t, k) => [`t${k}`, t] as const)],
    outputShape: [p, edges, c],
    uniforms: [
      { name: 'count', type: 'i32', value: p * edges * c },
      { name: 'edges', type: 'i32', value: edges },
      { name: 'channels', type: 'i32', value: c },
      { name: 'firstTerm', type: 'i32', value: first },
    ],
    invocations: p * edges * c,
    workgroupSize: ELEMENTWISE_WORKGROUP,
    code: `
      fn main(index : i32) {
        if (index < uniforms.count) {
          let pixel = index / (uniforms.edges * uniforms.channels);
          let edge = (index / uniforms.channels) % uniforms.edges;
          let channel = index % uniforms.channels;
          result[index] = ${[...(sum ? ['partial[index]'] : []), ...products].join(' + ') || '0.0'};
        }
      }
    `,
  });
}
