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
