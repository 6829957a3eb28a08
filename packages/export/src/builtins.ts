import { DilConv, FactorizedReduce, Identity, Pool3x3, SepConv, Zero, type Op } from '@autodeeplab/ops';
import { ResizedAtrous } from '@autodeeplab/model';
import { UserInputError } from '@autodeeplab/core';
import { emitAtrousConv2d, emitBatchNorm, emitConv2d, emitRelu, regularKernel } from './layers.js';
import { hasOnnxMapping, registerOnnxMapping, type OnnxOpContext } from './registry.js';

/** The op's module as the class its built-in factory makes, or an error saying the name was re-registered. */
function expect<T extends Op>(ctx: OnnxOpContext, type: abstract new (...args: never[]) => T): T {
  if (ctx.op instanceof type) return ctx.op;
  throw new UserInputError(
    `op '${ctx.opName}' (${ctx.op.name}) is a ${ctx.op.constructor.name}, not the built-in ${type.name}; ` +
      `register its ONNX mapping with registerOnnxMapping('${ctx.opName}', …, { override: true })`,
  );
}

/** Pooling window attributes: SAME padding, static at stride 1, SAME_UPPER (TensorFlow's SAME) at stride 2. */
function poolAttributes(stride: 1 | 2) {
  const window = { kernel_shape: [3, 3], strides: [stride, stride] };
  return stride === 1 ? { ...window, pads: [1, 1, 1, 1] } : { ...window, auto_pad: 'SAME_UPPER' };
}

function pool(ctx: OnnxOpContext): string {
  const op = expect(ctx, Pool3x3);
  const { graph, input, stride } = ctx;
  // Average pooling never counts the padding (Pool3x3's mean over in-image pixels).
  const pooled =
    op.mode === 'max'
      ? graph.node('MaxPool', [input], poolAttributes(stride), op.name)
      : graph.node('AveragePool', [input], { ...poolAttributes(stride), count_include_pad: 0 }, op.name);
  return op.bn ? emitBatchNorm(graph, op.bn, pooled) : pooled;
}

function zero(ctx: OnnxOpContext): string {
  const { graph, input, stride, inputScale } = ctx;
  expect(ctx, Zero);
  const batchAndChannels = graph.node('Shape', [input], { start: 0, end: 2 }, ctx.op.name);
  const shape = graph.node('Concat', [batchAndChannels, graph.sizeAtScale(inputScale * stride)], { axis: 0 }, ctx.op.name);
  // ConstantOfShape's default value is a float32 zero.
  return graph.node('ConstantOfShape', [shape], {}, ctx.op.name);
}

/**
 * FactorizedReduce: ReLU, then 1×1 convs of the phases x[0::2, 0::2] and x[1::2, 1::2] (zero past the
 * border for odd sizes), concatenated, BN. A 1×1 stride-2 conv reads exactly one phase; the second
 * phase is x[1:, 1:] padded by one zero at the end, so both give ceil(n / 2).
 */
function factorizedReduce(ctx: OnnxOpContext, op: FactorizedReduce): string {
  const { graph } = ctx;
  const x = emitRelu(graph, ctx.input, op.name);
  const stride2 = { kernel_shape: [1, 1], strides: [2, 2] };
  const a = graph.node('Conv', [x, regularKernel(graph, `${op.conv1.name}/kernel`, op.conv1.kernel)], { ...stride2, pads: [0, 0, 0, 0] }, op.conv1.name);
  const starts = graph.int64s(`${op.name}/starts`, [1, 1]);
  const ends = graph.int64s(`${op.name}/ends`, [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);
  const shifted = graph.node('Slice', [x, starts, ends, graph.int64s(`${op.name}/axes`, [2, 3])], {}, op.name);
  const b = graph.node('Conv', [shifted, regularKernel(graph, `${op.conv2.name}/kernel`, op.conv2.kernel)], { ...stride2, pads: [0, 0, 1, 1] }, op.conv2.name);
  return emitBatchNorm(graph, op.bn, graph.node('Concat', [a, b], { axis: 1 }, op.name));
}

function skipConnect(ctx: OnnxOpContext): string {
  if (ctx.op instanceof Identity) return ctx.input;
  return factorizedReduce(ctx, expect(ctx, FactorizedReduce));
}

/** SepConv: (ReLU → depthwise k×k → pointwise 1×1 → BN) twice, the first depthwise conv strided. */
function sepConv(ctx: OnnxOpContext): string {
  const op = expect(ctx, SepConv);
  const { graph } = ctx;
  let h = emitConv2d(graph, op.dw1, emitRelu(graph, ctx.input, op.name));
  h = emitBatchNorm(graph, op.bn1, emitConv2d(graph, op.pw1, h));
  h = emitConv2d(graph, op.dw2, emitRelu(graph, h, op.name));
  return emitBatchNorm(graph, op.bn2, emitConv2d(graph, op.pw2, h));
}

/**
 * DilConv: ReLU → atrous conv → BN. The network's stride-2 form (`ResizedAtrous`, official) resizes
 * the ReLU output to half with align_corners (tf.image.resizeBilinear(…, alignCorners = true)) and
 * convolves at rate 1.
 */
function dilConv(ctx: OnnxOpContext): string {
  const op = expect(ctx, DilConv);
  const { graph } = ctx;
  let x = emitRelu(graph, ctx.input, op.name);
  if (op instanceof ResizedAtrous) x = graph.resizeBilinear(x, graph.sizeAtScale(ctx.inputScale * 2), 'align_corners', op.name);
  return emitBatchNorm(graph, op.bn, emitAtrousConv2d(graph, op.conv, x));
}

/** Registers the mappings of the 8 built-in ops (once per process). */
function registerBuiltinMappings(): void {
  registerOnnxMapping('none', zero);
  registerOnnxMapping('max_pool_3x3', pool);
  registerOnnxMapping('avg_pool_3x3', pool);
  registerOnnxMapping('skip_connect', skipConnect);
  registerOnnxMapping('sep_conv_3x3', sepConv);
  registerOnnxMapping('sep_conv_5x5', sepConv);
  registerOnnxMapping('dil_conv_3x3', dilConv);
  registerOnnxMapping('dil_conv_5x5', dilConv);
}

if (!hasOnnxMapping('none')) registerBuiltinMappings();
