// The ONNX schema as protobufjs classes (onnx-proto ships onnx.proto compiled by protobufjs; a CommonJS
// module whose export is the root namespace, hence the default import).
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type INodeProto = onnxProto.onnx.INodeProto;
export type ITensorProto = onnxProto.onnx.ITensorProto;
export type IAttributeProto = onnxProto.onnx.IAttributeProto;
export type IValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type IModelProto = onnxProto.onnx.IModelProto;

/** The ONNX IR version that goes with opset 17 (ONNX 1.12). */
export const IR_VERSION = 8;
export const OPSET = 17;

/** A node attribute value: numbers are ints unless listed in `floats` of the attribute builder. */
export type AttributeValue = number | string | number[] | { floats: number[] } | { float: number };

/** One attribute of a node, typed as ONNX wants it (`{ float: x }` for a FLOAT, plain numbers are INTs). */
export function attribute(name: string, value: AttributeValue): IAttributeProto {
  const type = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: type.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') return { name, type: type.INT, i: value };
  if (Array.isArray(value)) return { name, type: type.INTS, ints: value };
  if ('floats' in value) return { name, type: type.FLOATS, floats: value.floats };
  return { name, type: type.FLOAT, f: value.float };
}
