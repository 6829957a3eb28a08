import type * as tf from '@tensorflow/tfjs';
import type { Scale, TrellisEdge, TrellisTopology } from '@autodeeplab/genotype';
import type { ReLUConvBN } from '@autodeeplab/ops';
import type { SearchCell } from '../cell.js';
import type { SearchSpaceConfig } from '../config.js';

/** What an execution strategy reads of the supernet: its structure, α, β and modules (the Supernet is one). */
export interface SupernetParts {
  readonly config: SearchSpaceConfig;
  readonly topology: TrellisTopology;
  readonly alpha: tf.Variable;
  readonly beta: tf.Variable;
  normalizedAlpha(): tf.Tensor2D;
  normalizedBeta(): tf.Tensor1D;
  /** The stem: node (0, 4). */
  applyStem(x: tf.Tensor4D): tf.Tensor4D;
  /** The cell of node (layer, scale). */
  cell(layer: number, scale: Scale): SearchCell;
  /** The transition T_e of a trellis edge (down: stride-2 3×3, same: 1×1, up: 1×1 after upsampling). */
  transition(edge: TrellisEdge): ReLUConvBN;
  /** The projection P of node (layer − 2, scale) into the cell of (layer, scale), when that node exists. */
  prevPrevProjection(layer: number, scale: Scale): ReLUConvBN | undefined;
}

export interface ExecutionOptions {
  /** Wrap every trellis node in `recomputeInBackward` (stacked path). */
  recompute: boolean;
  /** See `SupernetOptions.replayBudgetBytes`; undefined: the backend's default. */
  replayBudgetBytes?: number | undefined;
  /** See `ForwardOptions.gradientTargets`. */
  gradientTargets?: readonly tf.Variable[] | undefined;
}

/**
 * A way to run the supernet's trellis, equal to the plain forward (in train mode) with fewer kernels
 * or less memory: the stem and every node up to the last layer, whose nodes it returns by scale.
 */
export interface TrellisExecutor {
  run(net: SupernetParts, x: tf.Tensor4D, options: ExecutionOptions): Map<Scale, tf.Tensor4D>;
  /** Frees what it keeps between calls (e.g. convolution outputs awaiting a backward pass). */
  dispose(): void;
}
