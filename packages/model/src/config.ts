import { z } from 'zod';
import { UserInputError } from '@autodeeplab/core';

/** Filter multipliers of the paper's models (Table 2). */
export const PRESETS = { S: 20, M: 32, L: 48 } as const;
export type Preset = keyof typeof PRESETS;

const positiveInt = z.number().int().positive();

/**
 * Everything that, with a genotype, determines the network's variables. Saved with the weights
 * (`network.json`), so it must stay plain data.
 */
export const NetworkConfigSchema = z.object({
  /** F: block width `F·s/4` at scale s; cell output `B·F·s/4`. */
  filterMultiplier: positiveInt,
  numClasses: positiveInt,
  /** Input image channels. */
  inChannels: positiveInt.default(3),
  /** Filters of the three stem convs (strides 2, 1, 2). */
  stemFilters: z.tuple([positiveInt, positiveInt, positiveInt]).default([64, 64, 128]),
  /** ASPP atrous rates (12/24/36: DeepLabv3+ at output stride 8). */
  asppRates: z.array(positiveInt).default([12, 24, 36]),
  asppFilters: positiveInt.default(256),
  /** BN in the ASPP image-pooling branch (DeepLab: yes; degenerate when training at batch 1). */
  asppPoolingBatchNorm: z.boolean().default(true),
  /** Decoder: channels the low-level feature is reduced to, and the two 3×3 convs' filters. */
  lowLevelFilters: positiveInt.default(48),
  decoderFilters: positiveInt.default(256),
  /**
   * The decoder's low-level feature: the last cell at s = 4 among cells 0..lowLevelCell (the paper:
   * cell index 2); the stem output when none of them is at s = 4.
   */
  lowLevelCell: z.number().int().nonnegative().default(2),
  /** ε of every BN (official `nas_arg_scope`: 1e-3; PyTorch's default is 1e-5). */
  batchNormEpsilon: z.number().positive().default(1e-3),
  /**
   * Moving-average decay of the BN running statistics, TensorFlow's convention:
   * `running = decay·running + (1 − decay)·batch` (official: 0.9997; PyTorch's momentum 0.1 is decay 0.9).
   */
  batchNormDecay: z.number().min(0).lt(1).default(0.9997),
  /**
   * How an atrous op of a cell going down a scale halves its input: 'resize' (official `nas_cell.py`:
   * ReLU, bilinear resize with align_corners to ceil(n/2), then the k×k conv at rate 1) or 'strided'
   * (the k×k conv at rate 2 with stride 2). The two agree exactly for odd sizes (inputs of 32k+1).
   */
  atrousDownsampling: z.enum(['resize', 'strided']).default('resize'),
  /**
   * Scheduled drop-path (official `drop_path_keep_prob`; 1 = off, the official default). In training
   * mode each op output but identities is dropped per image with a keep probability decayed by cell
   * index and training progress (`Network.setDropPathProgress`).
   */
  dropPathKeepProb: z.number().gt(0).max(1).default(1),
});
export type NetworkConfig = z.output<typeof NetworkConfigSchema>;
export type NetworkConfigInput = z.input<typeof NetworkConfigSchema>;

export interface BuildNetworkOptions extends Partial<Omit<NetworkConfigInput, 'numClasses' | 'filterMultiplier'>> {
  numClasses: number;
  /** F; or give `preset`. */
  filterMultiplier?: number;
  /** 'S' (F = 20), 'M' (32), 'L' (48). */
  preset?: Preset;
  /** Module name, prefix of every variable name (default 'network'). */
  name?: string;
  /** Seed of the weight initialisation (default 0). */
  seed?: number;
}

/** Validates options and fills defaults; errors name the offending option. */
export function resolveNetworkConfig(options: BuildNetworkOptions | NetworkConfigInput, source = 'buildNetwork options'): NetworkConfig {
  const { preset, name: _name, seed: _seed, ...rest } = options as BuildNetworkOptions;
  let filterMultiplier = rest.filterMultiplier;
  if (preset !== undefined) {
    if (!(preset in PRESETS)) throw new UserInputError(`${source}: preset must be one of S, M, L; found '${String(preset)}'`);
    const fromPreset = PRESETS[preset];
    if (filterMultiplier !== undefined && filterMultiplier !== fromPreset) {
      throw new UserInputError(`${source}: preset '${preset}' means filterMultiplier ${fromPreset}, but filterMultiplier ${filterMultiplier} was given`);
    }
    filterMultiplier = fromPreset;
  }
  if (filterMultiplier === undefined) throw new UserInputError(`${source}: give filterMultiplier or preset ('S', 'M', 'L')`);
  const parsed = NetworkConfigSchema.safeParse({ ...rest, filterMultiplier });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new UserInputError(`${source}: ${problems}`);
  }
  return parsed.data;
}
