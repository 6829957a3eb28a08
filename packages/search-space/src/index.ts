export * from './config.js';
export { Activation } from './activation.js';
export { MixedOp, applyShared, type Candidate, type MixedOpSpec, type Terms } from './mixed-op.js';
export { SearchCell, type CellCall, type EdgeWeights, type SearchCellSpec } from './cell.js';
export { StemLayer } from './transition.js';
export { weightedSum } from './weighted-sum.js';
export { measureKeptBytes } from './probe.js';
export { Supernet, type ForwardOptions, type SupernetOptions } from './supernet.js';
export { countSupernetMultiAdds, countSupernetParameters, estimateCost, type CostEstimate, type CostInput } from './cost.js';
