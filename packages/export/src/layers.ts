import * as tf from '@tensorflow/tfjs';
import { BatchNorm, Conv2d } from '@autodeeplab/core';
import { AtrousConv2d, type ReLUConvBN } from '@autodeeplab/ops';
import type { ConvBnRelu } from '@autodeeplab/heads';
import type { OnnxGraph } from './graph.js';
import type { AttributeValue } from './proto.js';

/**
 * ONNX Conv attributes of a TensorFlow convolution. 'same' at stride 1 pads statically (the padding
 * does not depend on the size); at stride 2 it depends on the size's parity, so it is SAME_UPPER
 * (TensorFlow's SAME: the odd extra pixel of padding at the end), which also holds for dynamic sizes.
 */
function convAttributes(kernelSize: number, stride: number, dilation: number, padding: 'same' | 'valid'): Record<string, AttributeValue> {
  const common = { kernel_shape: [kernelSize, kernelSize], strides: [stride, stride], dilations: [dilation, dilation] };
  if (padding === 'valid') return { ...common, pads: [0, 0, 0, 0] };
  if (stride > 1) return { ...common, auto_pad: 'SAME_UPPER' };
  const total = dilation * (kernelSize - 1);
  const before = Math.floor(total / 2);
  return { ...common, pads: [before, before, total - before, total - before] };
}

/** A TensorFlow.js kernel [k, k, in, out] as ONNX weights [out, in, k, k]; returns the initializer's name. */
export function regularKernel(graph: OnnxGraph, name: string, kernel: tf.Tensor): string {
  const [k1, k2, inC, outC] = kernel.shape as [number, number, number, number];
  return graph.weight(name, [outC, inC, k1, k2], () => tf.transpose(kernel, [3, 2, 0, 1]));
}

/** `Conv2d` (regular or depthwise, optional bias) on NCHW `x`. */
export function emitConv2d(graph: OnnxGraph, conv: Conv2d, x: string, name = conv.name): string {
  const { kernelSize, stride, dilation, padding, depthwise, inChannels } = conv.spec;
  let weights: string;
  let group = 1;
  if (depthwise) {
    // tfjs [k, k, C, M] → ONNX group conv [C·M, 1, k, k]; output channel c·M + m reads input channel c in both.
    const [k1, k2, c, m] = conv.kernel.shape as [number, number, number, number];
    weights = graph.weight(`${name}/kernel`, [c * m, 1, k1, k2], () => tf.transpose(conv.kernel, [2, 3, 0, 1]));
    group = inChannels;
  } else {
    weights = regularKernel(graph, `${name}/kernel`, conv.kernel);
  }
  const inputs = [x, weights];
  if (conv.bias) inputs.push(graph.weight(`${name}/bias`, conv.bias.shape, () => tf.clone(conv.bias!)));
  return graph.node('Conv', inputs, { ...convAttributes(kernelSize, stride, dilation, padding), group }, name);
}

/**
 * `AtrousConv2d`: SAME, dilation `rate`, stride 1 or 2. At stride 2 it equals the conv with the
 * dilated kernel, stride 2, TensorFlow SAME padding (ops' blocks.ts), which ONNX runs directly.
 */
export function emitAtrousConv2d(graph: OnnxGraph, conv: AtrousConv2d, x: string, name = conv.name): string {
  const { kernelSize, rate, stride } = conv.spec;
  const weights = regularKernel(graph, `${name}/kernel`, conv.kernel);
  if (stride === 1 || rate === 1) return graph.node('Conv', [x, weights], convAttributes(kernelSize, stride, rate, 'same'), name);
  // ONNX Runtime rejects SAME_UPPER with dilation: pad explicitly, by the amounts computed from x's shape.
  const padded = padSame(graph, x, rate * (kernelSize - 1) + 1, stride, name);
  return graph.node('Conv', [padded, weights], { ...convAttributes(kernelSize, stride, rate, 'valid') }, name);
}

/**
 * `x` zero-padded as TensorFlow's SAME does for an effective kernel `kernel` at `stride`, computed in
 * the graph from x's size n (so for dynamic sizes too): total = max((ceil(n / s) − 1)·s + k − n, 0),
 * floor(total / 2) before, the rest after.
 */
export function padSame(graph: OnnxGraph, x: string, kernel: number, stride: number, name: string): string {
  const n = graph.node('Shape', [x], { start: 2 }, name);
  const out = graph.node(
    'Div',
    [graph.node('Add', [n, graph.int64s(`${name}/stride_minus_1`, [stride - 1, stride - 1])], {}, name), graph.int64s(`${name}/stride`, [stride, stride])],
    {},
    name,
  );
  const covered = graph.node(
    'Mul',
    [graph.node('Sub', [out, graph.int64s(`${name}/ones`, [1, 1])], {}, name), graph.int64s(`${name}/stride`, [stride, stride])],
    {},
    name,
  );
  const needed = graph.node('Sub', [graph.node('Add', [covered, graph.int64s(`${name}/kernel`, [kernel, kernel])], {}, name), n], {}, name);
  const total = graph.node('Max', [needed, graph.int64s(`${name}/zeros`, [0, 0])], {}, name);
  const before = graph.node('Div', [total, graph.int64s(`${name}/twos`, [2, 2])], {}, name);
  const after = graph.node('Sub', [total, before], {}, name);
  const zeros = graph.int64s(`${name}/no_pad`, [0, 0]);
  const pads = graph.node('Concat', [zeros, before, zeros, after], { axis: 0 }, name);
  return graph.node('Pad', [x, pads], { mode: 'constant' }, name);
}

/** A convolution of this project's modules: `Conv2d` or `AtrousConv2d`. */
export function emitConvolution(graph: OnnxGraph, conv: Conv2d | AtrousConv2d, x: string): string {
  return conv instanceof AtrousConv2d ? emitAtrousConv2d(graph, conv, x) : emitConv2d(graph, conv, x);
}

/** `BatchNorm` in inference mode (running statistics, the module's own ε); non-affine: γ = 1, β = 0. */
export function emitBatchNorm(graph: OnnxGraph, bn: BatchNorm, x: string, name = bn.name): string {
  const channels = bn.runningMean.shape[0]!;
  const scale = bn.gamma
    ? graph.weight(`${name}/gamma`, [channels], () => tf.clone(bn.gamma!))
    : graph.floats(`${name}/gamma`, [channels], new Float32Array(channels).fill(1));
  const offset = bn.beta
    ? graph.weight(`${name}/beta`, [channels], () => tf.clone(bn.beta!))
    : graph.floats(`${name}/beta`, [channels], new Float32Array(channels));
  const mean = graph.weight(`${name}/running_mean`, [channels], () => tf.clone(bn.runningMean));
  const variance = graph.weight(`${name}/running_var`, [channels], () => tf.clone(bn.runningVar));
  return graph.node('BatchNormalization', [x, scale, offset, mean, variance], { epsilon: { float: bn.epsilon } }, name);
}

export function emitRelu(graph: OnnxGraph, x: string, name = 'relu'): string {
  return graph.node('Relu', [x], {}, name);
}

/** `ReLUConvBN` (ops): ReLU → conv (regular or atrous, any stride) → BN. */
export function emitReLUConvBN(graph: OnnxGraph, module: ReLUConvBN, x: string): string {
  return emitReLUConvBNPreActivated(graph, module, emitRelu(graph, x, module.name));
}

/** `ReLUConvBN` on an input that already went through ReLU. */
export function emitReLUConvBNPreActivated(graph: OnnxGraph, module: ReLUConvBN, reluX: string): string {
  return emitBatchNorm(graph, module.bn, emitConvolution(graph, module.conv, reluX));
}

/** `ConvBnRelu` (heads): conv → BN (or the conv's bias) → ReLU (when the unit has one). */
export function emitConvBnRelu(graph: OnnxGraph, unit: ConvBnRelu, x: string): string {
  let y = emitConv2d(graph, unit.conv, x);
  if (unit.bn) y = emitBatchNorm(graph, unit.bn, y);
  return unit.relu ? emitRelu(graph, y, unit.name) : y;
}
