// Importing the package registers the ONNX mappings of the 8 built-in ops (builtins.ts).
export * from './export.js';
export * from './registry.js';
export * from './layers.js';
export { OnnxGraph, type InputSize, type ResizeCoordinates } from './graph.js';
export { OPSET, IR_VERSION, type AttributeValue } from './proto.js';
import './builtins.js';
