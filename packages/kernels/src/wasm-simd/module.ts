import { moduleBytes } from './assembler.js';
import { channelAffineFunction, type ChannelAffine } from './channel-affine.js';
import { copyRunsFunction, type CopyRuns } from './copy-runs.js';
import { maxPoolGradFunction, type MaxPoolGrad } from './max-pool-grad.js';
import { reluMaskFunction, type ReluMask } from './relu-mask.js';
import { sgdMomentumFunction, type SgdMomentum } from './sgd-momentum.js';
import { tapOuterFunction, tapOuterStridedFunction, type TapOuter, type TapOuterStrided } from './tap-outer.js';
import { tapReduceFunction, type TapReduce } from './tap-reduce.js';

/**
 * The hand-assembled WebAssembly SIMD module: its functions work directly on the wasm backend's
 * heap (the module imports the backend's own WebAssembly.Memory, so nothing is copied).
 */

/** The module's functions bound to one memory. */
export interface SimdKernels {
  tapReduce: TapReduce;
  tapOuter: TapOuter;
  tapOuterStrided: TapOuterStrided;
  channelAffine: ChannelAffine;
  reluMask: ReluMask;
  sgdMomentum: SgdMomentum;
  maxPoolGrad: MaxPoolGrad;
  copyRuns: CopyRuns;
}

/** The functions in export order (function i of the module is the i-th). */
const FUNCTIONS = [
  tapReduceFunction,
  tapOuterFunction,
  tapOuterStridedFunction,
  channelAffineFunction,
  reluMaskFunction,
  sgdMomentumFunction,
  maxPoolGradFunction,
  copyRunsFunction,
] as const;

/** The module's bytes. */
export function simdModuleBytes(): Uint8Array {
  return moduleBytes(FUNCTIONS.map((assembleFunction) => assembleFunction()));
}

/** The export names of the module, which are the keys of `SimdKernels`. */
export const SIMD_FUNCTION_NAMES: readonly (keyof SimdKernels)[] = [
  'tapReduce',
  'tapOuter',
  'tapOuterStrided',
  'channelAffine',
  'reluMask',
  'sgdMomentum',
  'maxPoolGrad',
  'copyRuns',
];

export type { ChannelAffine, CopyRuns, MaxPoolGrad, ReluMask, SgdMomentum, TapOuter, TapOuterStrided, TapReduce };
