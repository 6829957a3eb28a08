export * from './types.js';
export * from './optimizers.js';
export * from './schedules.js';
export * from './loss.js';
export * from './confusion.js';
export * from './events.js';
export * from './metrics-log.js';
export * from './run-checkpoint.js';
export {
  batchToTensors,
  disposeBatch,
  computeGradients,
  disposeGradients,
  validate,
  NonFiniteLossError,
  type BatchTensors,
  type GradientResult,
  type ValidationResult,
} from './loop-support.js';
export * from './memory-source.js';
export * from './search.js';
export * from './train.js';
export * from './evaluate.js';
export * from './dataset-source.js';
export * from './parallel/index.js';
