import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@autodeeplab/core';

/**
 * Keep probability of scheduled drop-path (official `NASBaseCell._apply_drop_path`): the configured
 * `keepProb` is scaled by depth, `p_l = 1 − (cellIndex + 1)/totalCells · (1 − keepProb)`, then by training
 * progress `t = min(1, step / totalSteps)`: `p = 1 − t·(1 − p_l)`. So it starts at 1 and reaches p_l at the
 * end of training; the last cell reaches keepProb itself.
 */
export function dropPathKeepProbability(keepProb: number, cellIndex: number, totalCells: number, progress: number): number {
  const depth = (cellIndex + 1) / totalCells;
  const atDepth = 1 - depth * (1 - keepProb);
  const t = Math.min(1, Math.max(0, progress));
  return 1 - t * (1 - atDepth);
}

/**
 * Drops `x` per image with probability 1 − keep and scales the kept images by 1/keep, so the
 * expected value is x. The mask, [N, 1, 1, 1], is drawn from `rng` (reproducible; no read-back).
 */
export function dropPath(x: tf.Tensor4D, keep: number, rng: Rng): tf.Tensor4D {
  if (keep >= 1) return x;
  const n = x.shape[0];
  const mask = new Float32Array(n);
  // floor(keep + U[0, 1)) is 1 with probability keep, as the official code draws it.
  for (let i = 0; i < n; i++) mask[i] = Math.floor(keep + rng.uniform()) / keep;
  return tf.mul(x, tf.tensor4d(mask, [n, 1, 1, 1]));
}
