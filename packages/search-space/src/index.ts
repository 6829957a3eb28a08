// The paper's model: config, supernet (modules, α, β, the plain forward), cell, mixed op, stem.
export * from './config.js';
export { MixedOp, type Candidate, type MixedOpSpec } from './mixed-op.js';
export { SearchCell, type EdgeWeights, type SearchCellSpec } from './cell.js';
export { StemLayer } from './stem.js';
export {
  Supernet,
  planTrellis,
  type ForwardOptions,
  type ReplicaDescriptor,
  type SupernetOptions,
  type PrevPrevSource,
  type TrellisNode,
  type TrellisPlan,
} from './supernet.js';
// Its fast execution strategies (equal to the plain forward in train mode).
export { chooseFastPath, createTrellisExecutor, type FastPath } from './fast/create.js';
export type { ExecutionOptions, SupernetParts, TrellisExecutor } from './fast/types.js';
export { applyShared } from './fast/fused.js';
export { weightedSum } from './fast/weighted-sum.js';
export { AlphaColumns, applyStackedCell, stackedWeightedSum, type EdgeLayout, type StackedCellInputs } from './fast/stacked-cell.js';
export { defaultReplayBudgetBytes } from './fast/replay.js';
// The tensor-and-its-ReLU of the fast paths lives in @autodeeplab/ops; re-exported under its former names here.
export { Activation, Activation as StackedTensor } from '@autodeeplab/ops';
// The cost estimate.
export { countSupernetMultiAdds, countSupernetParameters, estimateCost, type CostEstimate, type CostInput } from './cost/estimate.js';
export { supernetMemoryFloor, type MemoryFloor } from './cost/floor.js';
