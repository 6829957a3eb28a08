import * as tf from '@tensorflow/tfjs';
import { attribute, onnx, type AttributeValue, type INodeProto, type ITensorProto } from './proto.js';

/** How a bilinear resize places pixels: tf.image.resizeBilinear's alignCorners or halfPixelCenters. */
export type ResizeCoordinates = 'half_pixel' | 'align_corners';

/** Spatial size of the network input: fixed numbers, or read from the input at run time. */
export type InputSize = { height: number; width: number } | 'dynamic';

/** A weight to be read from the backend when the model is encoded (reads are asynchronous on WebGPU). */
interface PendingWeight {
  name: string;
  dims: number[];
  values: () => tf.Tensor;
}

/**
 * Builds an ONNX graph in NCHW: nodes with unique output names, weights as initializers (read from
 * the backend when the model is encoded), int64 constants, and the spatial sizes of the network's
 * feature maps (constants for a fixed input size, computed from the input's shape otherwise).
 */
export class OnnxGraph {
  readonly nodes: INodeProto[] = [];
  private readonly constants: ITensorProto[] = [];
  private readonly weights: PendingWeight[] = [];
  private readonly taken = new Set<string>();
  private readonly sizes = new Map<number, string>();

  /** `input` is the NCHW image tensor's name; `inputSize` its spatial size. */
  constructor(
    readonly input: string,
    readonly inputSize: InputSize,
  ) {
    this.taken.add(input);
  }

  /** A fresh value name starting with `base`. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 2; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }

  /**
   * Adds a node and returns its first output's name. `name` prefixes its output names (a module
   * name makes the graph readable); empty inputs are omitted optional inputs.
   */
  node(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, name = opType): string {
    return this.nodeWithOutputs(opType, inputs, 1, attributes, name)[0]!;
  }

  /** A node with several outputs. */
  nodeWithOutputs(opType: string, inputs: readonly string[], outputCount: number, attributes: Record<string, AttributeValue> = {}, name = opType): string[] {
    const nodeName = this.uniqueName(`${name}/${opType}`);
    const outputs = Array.from({ length: outputCount }, (_, i) => (i === 0 ? nodeName : this.uniqueName(`${nodeName}:${i}`)));
    this.nodes.push({
      name: nodeName,
      opType,
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return outputs;
  }

  /**
   * A float32 initializer of shape `dims`, its values computed by `values` (run in a tidy when the
   * model is encoded; the result must hold prod(dims) values, laid out as ONNX expects).
   */
  weight(name: string, dims: readonly number[], values: () => tf.Tensor): string {
    const unique = this.uniqueName(name);
    this.weights.push({ name: unique, dims: [...dims], values });
    return unique;
  }

  /** A float32 initializer from numbers. */
  floats(name: string, dims: readonly number[], values: ArrayLike<number>): string {
    const unique = this.uniqueName(name);
    this.constants.push(floatTensor(unique, dims, Float32Array.from(values)));
    return unique;
  }

  /** A 1-D int64 initializer. */
  int64s(name: string, values: readonly number[]): string {
    const unique = this.uniqueName(name);
    this.constants.push({ name: unique, dataType: onnx.TensorProto.DataType.INT64, dims: [values.length], int64Data: [...values] });
    return unique;
  }

  /** [height, width] (int64, 1-D) of the network's feature maps at downsampling rate `scale`: ceil(n / scale) each. */
  sizeAtScale(scale: number): string {
    const cached = this.sizes.get(scale);
    if (cached) return cached;
    let size: string;
    if (this.inputSize !== 'dynamic') {
      const { height, width } = this.inputSize;
      size = this.int64s(`size_s${scale}`, [Math.ceil(height / scale), Math.ceil(width / scale)]);
    } else if (scale === 1) {
      size = this.node('Shape', [this.input], { start: 2 }, 'input_size');
    } else {
      // ceil(n / s) = floor((n + s − 1) / s) for positive n (Div of int64 truncates).
      const plus = this.node('Add', [this.sizeAtScale(1), this.int64s(`s${scale}_minus_1`, [scale - 1])], {}, `size_s${scale}`);
      size = this.node('Div', [plus, this.int64s(`s${scale}`, [scale])], {}, `size_s${scale}`);
    }
    this.sizes.set(scale, size);
    return size;
  }

  /**
   * Bilinear resize of NCHW `x` to `size` ([height, width], int64) — tf.image.resizeBilinear with
   * halfPixelCenters (`'half_pixel'`) or alignCorners (`'align_corners'`).
   */
  resizeBilinear(x: string, size: string, coordinates: ResizeCoordinates, name = 'resize'): string {
    const batchAndChannels = this.node('Shape', [x], { start: 0, end: 2 }, name);
    const sizes = this.node('Concat', [batchAndChannels, size], { axis: 0 }, name);
    return this.node('Resize', [x, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: coordinates }, name);
  }

  /**
   * The initializers: constants, then every weight read from the backend (one at a time, so the
   * transposed copies never all live at once). Creates no lasting tensors.
   */
  async initializers(): Promise<ITensorProto[]> {
    const out = [...this.constants];
    for (const weight of this.weights) {
      const tensor = tf.tidy(weight.values);
      try {
        const expected = weight.dims.reduce((a, b) => a * b, 1);
        if (tensor.size !== expected) throw new Error(`${weight.name}: ${tensor.size} values for dims [${weight.dims}] (${expected})`);
        out.push(floatTensor(weight.name, weight.dims, Float32Array.from(await tensor.data())));
      } finally {
        tensor.dispose();
      }
    }
    return out;
  }
}

function floatTensor(name: string, dims: readonly number[], values: Float32Array): ITensorProto {
  // ONNX raw data is little-endian, as every platform Node.js runs TensorFlow.js on.
  return { name, dataType: onnx.TensorProto.DataType.FLOAT, dims: [...dims], rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}
