import { z } from 'zod';
import { UserInputError } from '@autodeeplab/core';
import { SCALES, ScaleSchema, type Scale } from '@autodeeplab/genotype';
import { BUILTIN_OPS, hasOp, isZeroOp, listOps } from '@autodeeplab/ops';

/** The paper's defaults (paper §3 and §5.1: L = 12, B = 5, F = 8 during the search; 19 Cityscapes classes). */
export const DEFAULT_LAYERS = 12;
export const DEFAULT_BLOCKS = 5;
export const DEFAULT_FILTER_MULTIPLIER = 8;
export const DEFAULT_NUM_CLASSES = 19;

/** The ways to handle a missing H^{l−2} (see `missingPrevPrev`). */
export const MISSING_PREV_PREV_MODES = ['drop', 'substitute'] as const;
export type MissingPrevPrev = (typeof MISSING_PREV_PREV_MODES)[number];

/**
 * The search space: every dimension the paper fixes, defaulting to the paper's values. Op names are
 * checked against the ops registry at parse time (register custom ops before parsing).
 */
export const SearchSpaceConfigSchema = z
  .object({
    /** Trellis layers L after the stem. */
    layers: z.number().int().min(1).default(DEFAULT_LAYERS),
    /** Blocks B per cell. */
    blocks: z.number().int().min(1).max(16).default(DEFAULT_BLOCKS),
    /** Filter multiplier F: a block at scale s has F·s/4 channels. */
    filterMultiplier: z.number().int().min(1).default(DEFAULT_FILTER_MULTIPLIER),
    /** Downsample rates of the trellis: 4 first, each the double of the previous (e.g. [4, 8, 16] for small runs). */
    scales: z
      .array(ScaleSchema)
      .min(1)
      .default([...SCALES])
      .superRefine((scales, ctx) => {
        if (scales[0] !== 4) ctx.addIssue({ code: 'custom', message: `the first scale must be 4, found ${scales[0]}` });
        for (let i = 1; i < scales.length; i++) {
          if (scales[i] !== scales[i - 1]! * 2) {
            ctx.addIssue({
              code: 'custom',
              path: [i],
              message: `scales must double at each step (expected ${scales[i - 1]! * 2}, found ${scales[i]})`,
            });
          }
        }
      }),
    /** Candidate op names (registry names), in α's column order. */
    ops: z
      .array(z.string().min(1))
      .min(1)
      .default([...BUILTIN_OPS])
      .superRefine((ops, ctx) => {
        const seen = new Set<string>();
        ops.forEach((name, i) => {
          if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [i], message: `op '${name}' is listed twice` });
          seen.add(name);
          if (!hasOp(name)) {
            ctx.addIssue({
              code: 'custom',
              path: [i],
              message: `unknown op '${name}'; registered ops: ${listOps().join(', ') || '(none)'}`,
            });
          }
        });
        if (ops.length > 0 && ops.every((name) => hasOp(name) && isZeroOp(name))) {
          ctx.addIssue({ code: 'custom', message: 'the cell needs at least one op that is not a zero op (such as none)' });
        }
      }),
    /** Output classes of the search heads. */
    numClasses: z.number().int().min(1).default(DEFAULT_NUM_CLASSES),
    /**
     * Channels of the two stride-2 stem convs (choice; default [B·F/2 rounded up, B·F], so the stem
     * output is as wide as a cell output at s = 4).
     */
    stemChannels: z.tuple([z.number().int().min(1), z.number().int().min(1)]).optional(),
    /** Affine BN inside candidate ops and the scale transitions (the search convention is non-affine). */
    affine: z.boolean().default(false),
    /**
     * What a cell gets as H^{l−2} when node (l − 2, s) does not exist (layer 1, and the first two
     * layers of scales 8, 16, 32): `drop` (default) — the cell has no such input, its edges from
     * H^{l−2} are not built and add nothing (as the public PyTorch reference); `substitute` — each
     * call uses its projected H^{l−1} in that role too.
     */
    missingPrevPrev: z.enum(MISSING_PREV_PREV_MODES).default('drop'),
  })
  .strict();

export type SearchSpaceConfigInput = z.input<typeof SearchSpaceConfigSchema>;
export type SearchSpaceConfig = z.output<typeof SearchSpaceConfigSchema>;

/** Parses a config (defaults filled in); throws a UserInputError naming each bad field. */
export function parseSearchSpaceConfig(input: unknown = {}, source = 'search-space config'): SearchSpaceConfig {
  const result = SearchSpaceConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 8).map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    return `${path.replace(/^\./, '') || '(root)'}: ${issue.message}`;
  });
  throw new UserInputError(`${source}: invalid: ${problems.join('; ')}`);
}

/** Channels of one block at scale s: F·s/4. */
export function blockChannels(config: Pick<SearchSpaceConfig, 'filterMultiplier'>, scale: Scale): number {
  return (config.filterMultiplier * scale) / 4;
}

/** Channels of a cell output (the concatenation of B blocks) at scale s: B·F·s/4. */
export function cellChannels(config: Pick<SearchSpaceConfig, 'filterMultiplier' | 'blocks'>, scale: Scale): number {
  return config.blocks * blockChannels(config, scale);
}

/** The stem's two conv widths (see `stemChannels`). */
export function stemChannels(config: Pick<SearchSpaceConfig, 'filterMultiplier' | 'blocks' | 'stemChannels'>): [number, number] {
  if (config.stemChannels) return [config.stemChannels[0], config.stemChannels[1]];
  const out = cellChannels(config, 4);
  return [Math.ceil(out / 2), out];
}

/**
 * Spatial size of a node at scale s for an input of `size` pixels: ceil(size / s). Stride-2 SAME
 * convolutions map ceil(n / s) to ceil(n / 2s) exactly, so only upsampling needs an explicit target.
 */
export function nodeSize(size: number, scale: number): number {
  return Math.ceil(size / scale);
}
