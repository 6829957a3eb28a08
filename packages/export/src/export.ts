import { UserInputError, writeFileAtomic } from '@autodeeplab/core';
import type { Network } from '@autodeeplab/model';
import { OnnxGraph, type InputSize } from './graph.js';
import { emitNetwork } from './network.js';
import { IR_VERSION, OPSET, onnx, type IValueInfoProto } from './proto.js';
import './builtins.js';

export interface OnnxExportOptions {
  /** Layout of the image input and the logits output (default 'NCHW', ONNX's convention). */
  layout?: 'NCHW' | 'NHWC';
  /** A fixed input height and width (both or neither); without them both are dynamic. */
  height?: number;
  width?: number;
  /** Class names, in logit order: metadata `class_names` (JSON). */
  classNames?: readonly string[];
  /** What the input must be: images scaled to [0, 1], minus mean, divided by std per channel: metadata `preprocessing` (JSON). */
  preprocessing?: { mean: readonly number[]; std: readonly number[] };
  /** Names of the graph's input and output (default 'image', 'logits'). */
  inputName?: string;
  outputName?: string;
}

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

function positiveInteger(value: number | undefined, flag: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value > 0))
    throw new UserInputError(`exportOnnx: ${flag} must be a positive integer, found ${value}`);
}

function inputSize(options: OnnxExportOptions): InputSize {
  positiveInteger(options.height, 'height');
  positiveInteger(options.width, 'width');
  if ((options.height === undefined) !== (options.width === undefined)) {
    throw new UserInputError('exportOnnx: give both height and width for a fixed input size, or neither for a dynamic one');
  }
  return options.height !== undefined && options.width !== undefined ? { height: options.height, width: options.width } : 'dynamic';
}

/** A float32 tensor value of a graph input or output; string dims are named dynamic dimensions. */
function tensorValue(name: string, dims: readonly (number | string)[]): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function metadata(network: Network, options: OnnxExportOptions, layout: string): { key: string; value: string }[] {
  const { numClasses, inChannels } = network.config;
  if (options.classNames && options.classNames.length !== numClasses) {
    throw new UserInputError(`exportOnnx: classNames has ${options.classNames.length} names, expected ${numClasses} (the network's classes)`);
  }
  for (const key of ['mean', 'std'] as const) {
    const values = options.preprocessing?.[key];
    if (values && values.length !== inChannels)
      throw new UserInputError(`exportOnnx: preprocessing.${key} has ${values.length} values, expected ${inChannels}`);
  }
  const entries: Record<string, string> = {
    layout,
    genotype: JSON.stringify(network.genotype),
    network_config: JSON.stringify(network.config),
  };
  if (options.classNames) entries.class_names = JSON.stringify(options.classNames);
  if (options.preprocessing) {
    const { mean, std } = options.preprocessing;
    entries.preprocessing = JSON.stringify({ input: 'RGB scaled to [0, 1], then (x - mean) / std per channel', mean, std });
  }
  return Object.entries(entries).map(([key, value]) => ({ key, value }));
}

/**
 * The trained discrete network as an ONNX model (opset 17), encoded: stem, cells, ASPP, decoder and
 * the logits resized to the input size, equal to `network.forward` in eval mode (BN with running
 * statistics, no drop-path). Batch is dynamic; height and width fixed or dynamic as asked; weights are
 * initializers; class names and preprocessing go into the metadata. Reads the weights asynchronously
 * (any backend, WebGPU included) and leaves no tensors behind.
 */
export async function exportOnnx(network: Network, options: OnnxExportOptions = {}): Promise<Uint8Array> {
  const layout = options.layout ?? 'NCHW';
  if (layout !== 'NCHW' && layout !== 'NHWC') throw new UserInputError(`exportOnnx: layout must be 'NCHW' or 'NHWC', found '${String(layout)}'`);
  const size = inputSize(options);
  const inputName = options.inputName ?? 'image';
  const outputName = options.outputName ?? 'logits';
  const props = metadata(network, options, layout);
  const { inChannels, numClasses } = network.config;
  const [height, width]: [number | string, number | string] = size === 'dynamic' ? ['height', 'width'] : [size.height, size.width];

  const nchwInput = layout === 'NCHW' ? inputName : `${inputName}_nchw`;
  const graph = new OnnxGraph(nchwInput, size);
  graph.uniqueName(inputName);
  graph.uniqueName(outputName);
  if (layout === 'NHWC')
    graph.nodes.push({
      name: 'to_nchw',
      opType: 'Transpose',
      input: [inputName],
      output: [nchwInput],
      attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: TO_NCHW }],
    });
  const logits = emitNetwork(graph, network);
  graph.nodes.push(
    layout === 'NCHW'
      ? { name: 'output', opType: 'Identity', input: [logits], output: [outputName] }
      : {
          name: 'to_nhwc',
          opType: 'Transpose',
          input: [logits],
          output: [outputName],
          attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: TO_NHWC }],
        },
  );

  const inputDims = layout === 'NCHW' ? ['batch', inChannels, height, width] : ['batch', height, width, inChannels];
  const outputDims = layout === 'NCHW' ? ['batch', numClasses, height, width] : ['batch', height, width, numClasses];
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'autodeeplab',
    producerVersion: '0.1.0',
    docString: `Auto-DeepLab network '${network.genotype.name ?? 'unnamed'}' (${layout} logits at the input size)`,
    graph: {
      name: network.name,
      node: graph.nodes,
      initializer: await graph.initializers(),
      input: [tensorValue(inputName, inputDims)],
      output: [tensorValue(outputName, outputDims)],
    },
    metadataProps: props,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** `exportOnnx`, written atomically to `path`. */
export async function writeOnnx(path: string, network: Network, options: OnnxExportOptions = {}): Promise<void> {
  await writeFileAtomic(path, await exportOnnx(network, options));
}
