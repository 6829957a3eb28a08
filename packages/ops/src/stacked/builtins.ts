import * as tf from '@tensorflow/tfjs';
import { batchNormalize } from '../batch-norm.js';
import { DilConv, Identity, Pool3x3, SepConv } from '../builtins.js';
import type { Op } from '../registry.js';
import { POINTWISE, blockDiagonal, channelToEdgeMajor, convolve, perEdgePointwise, pointwisePerEdge, stackKernels } from './kernels.js';
import { getStackedForm, registerStackedForm } from './table.js';
import type { ConvolutionSpec, StackInput, StackOutput } from './types.js';

/**
 * The stacked forms of the built-in ops. Non-affine BN only (the search convention): affine
 * instances, strided ones and mixed kernel sizes are declined (`undefined`), and run one by one.
 */

/** (ReLU → depthwise → pointwise → BN) × 2 for E edges: ~12 kernels whatever E (block-diagonal 1×1s), ~2E more per-edge. */
export function stackSepConv(ops: readonly Op[], input: StackInput): StackOutput | undefined {
  if (!ops.every((o): o is SepConv => o instanceof SepConv)) return undefined;
  const first = ops[0]!;
  const { kernelSize, dilation } = first.dw1.spec;
  const compatible = (o: SepConv) =>
    o.dw1.spec.stride === 1 && o.dw1.spec.kernelSize === kernelSize && o.dw1.spec.dilation === dilation && !o.bn1.gamma && !o.bn2.gamma;
  if (!ops.every(compatible)) return undefined;
  const { groups } = input;
  const perEdge = pointwisePerEdge(ops.length, input.x.shape[3]);
  const pw1 = ops.map((o) => o.pw1.kernel as tf.Tensor4D);
  const pw2 = ops.map((o) => o.pw2.kernel as tf.Tensor4D);
  // dw1 with channel multiplier E: output channel c·E + e is edge e's depthwise output of channel c.
  const dw1 = stackKernels(
    ops.map((o) => o.dw1.kernel as tf.Tensor4D),
    3,
  );
  const depthwise: ConvolutionSpec = { dilation, depthwise: true };
  let h = convolve(input, input.relu(), dw1, depthwise);
  h = perEdge ? perEdgePointwise(input, channelToEdgeMajor(h, ops.length), pw1) : convolve(input, h, blockDiagonal(pw1, 'channel-major'), POINTWISE);
  h = tf.relu(batchNormalize(h, { groups, epsilon: first.bn1.epsilon }));
  const dw2 = stackKernels(
    ops.map((o) => o.dw2.kernel as tf.Tensor4D),
    2,
  );
  h = convolve(input, h, dw2, depthwise);
  h = perEdge ? perEdgePointwise(input, h, pw2) : convolve(input, h, blockDiagonal(pw2, 'edge-major'), POINTWISE);
  return { y: batchNormalize(h, { groups, epsilon: first.bn2.epsilon }), shared: false };
}

/** ReLU → atrous conv → BN for E edges: one conv C → E·C (all edges read the same input). */
export function stackDilConv(ops: readonly Op[], input: StackInput): StackOutput | undefined {
  if (!ops.every((o): o is DilConv => o instanceof DilConv)) return undefined;
  const first = ops[0]!;
  const { kernelSize, rate } = first.conv.spec;
  if (!ops.every((o) => o.conv.spec.stride === 1 && o.conv.spec.kernelSize === kernelSize && o.conv.spec.rate === rate && !o.bn.gamma)) {
    return undefined;
  }
  const kernel = stackKernels(
    ops.map((o) => o.conv.kernel as tf.Tensor4D),
    3,
  );
  // A direct dilated conv: @autodeeplab/kernels registers its gradient, and on wasm it is faster than
  // the space-to-batch form that AtrousConv2d uses.
  const h = convolve(input, input.relu(), kernel, { dilation: rate, heavy: true });
  return { y: batchNormalize(h, { groups: input.groups, epsilon: first.bn.epsilon }), shared: false };
}

/** Pooling (+ non-affine BN): parameter-free and identical for every edge, so computed once. */
export function stackPool(ops: readonly Op[], input: StackInput): StackOutput | undefined {
  if (!ops.every((o): o is Pool3x3 => o instanceof Pool3x3)) return undefined;
  const first = ops[0]!;
  if (!ops.every((o) => o.mode === first.mode && o.spec.stride === 1 && !!o.bn === !!first.bn && !o.bn?.gamma)) return undefined;
  const pooled = first.pool(input.x);
  return { y: first.bn ? batchNormalize(pooled, { groups: input.groups, epsilon: first.bn.epsilon }) : pooled, shared: true };
}

/** Identity at stride 1: the input itself, shared. */
export function stackIdentity(ops: readonly Op[], input: StackInput): StackOutput | undefined {
  return ops.every((o) => o instanceof Identity) ? { y: input.x, shared: true } : undefined;
}

/** Registers the stacked forms of the built-in ops (done once when the package is imported). */
function registerBuiltinStackedForms(): void {
  registerStackedForm('max_pool_3x3', { apply: stackPool });
  registerStackedForm('avg_pool_3x3', { apply: stackPool });
  registerStackedForm('skip_connect', { apply: stackIdentity });
  // A sep conv's four convolutions' outputs: two depthwise, two pointwise, each the size of the output.
  for (const k of [3, 5]) registerStackedForm(`sep_conv_${k}x${k}`, { apply: stackSepConv, replayedOutputs: { light: 4 } });
  for (const k of [3, 5]) registerStackedForm(`dil_conv_${k}x${k}`, { apply: stackDilConv, replayedOutputs: { heavy: 1 } });
}

// A second copy of this package in one process finds them registered by the first (the table is shared).
if (!getStackedForm('max_pool_3x3')) registerBuiltinStackedForms();
