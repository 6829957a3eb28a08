import { FusedExecutor } from './fused.js';
import { StackedExecutor } from './stacked.js';
import type { TrellisExecutor } from './types.js';

/**
 * The fast execution strategies of the supernet:
 * - `stacked` (the default): edges reading one tensor run as one set of kernels, a node's calls as
 *   one batch, every BN with batch statistics and non-affine — the search convention;
 * - `fused`: one pass per node with shared ReLUs and zero ops skipped, module BNs — for affine configs,
 *   which the stacked forms do not cover.
 */
export type FastPath = 'stacked' | 'fused';

/** The fast path for a config's BN (`stacked: false` asks for the fused one). */
export function chooseFastPath(affine: boolean, stacked = true): FastPath {
  return affine || !stacked ? 'fused' : 'stacked';
}

export function createTrellisExecutor(path: FastPath): TrellisExecutor {
  return path === 'stacked' ? new StackedExecutor() : new FusedExecutor();
}
