export { GradientWorkerPool, type GradientWorkerPoolOptions, type ParallelStepStats } from './pool.js';
export { GradientWorkerError, ThreadReplica, type Replica, type ReplicaRequest, type ReplicaResult } from './replica.js';
export { describeModel } from './describe.js';
export { splitBatch, countLabelled } from './split.js';
export type { ModelDescriptor } from './protocol.js';
