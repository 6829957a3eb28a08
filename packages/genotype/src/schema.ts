import { z } from 'zod';

/** Downsample rates of the trellis, as numbers (never indices) in every public API. */
export const SCALES = [4, 8, 16, 32] as const;
export type Scale = (typeof SCALES)[number];
export const ScaleSchema = z.union([z.literal(4), z.literal(8), z.literal(16), z.literal(32)]);

/** Names of a block's possible inputs: the previous cell, the one before, or an earlier block (1-based). */
export const CellInputSchema = z.string().regex(/^(prev|prev_prev|block[1-9][0-9]*)$/, {
  message: "expected 'prev', 'prev_prev' or 'blockN'",
});
export type CellInput = z.infer<typeof CellInputSchema>;

export const BranchSchema = z.object({
  op: z.string().min(1),
  input: CellInputSchema,
});
export type Branch = z.infer<typeof BranchSchema>;

/** One block: two branches whose outputs are summed. */
export const BlockSchema = z.tuple([BranchSchema, BranchSchema]);
export type Block = z.infer<typeof BlockSchema>;

export const GENOTYPE_FORMAT = 'autodeeplab-genotype';
export const GENOTYPE_VERSION = 1;

/**
 * A decoded architecture: the cell (blocks of two branches) and the network path (one scale per
 * layer, starting after the stem at s = 4). `search` records where it came from.
 */
export const GenotypeSchema = z
  .object({
    format: z.literal(GENOTYPE_FORMAT),
    version: z.literal(GENOTYPE_VERSION),
    name: z.string().optional(),
    cell: z.array(BlockSchema).min(1),
    path: z.array(ScaleSchema).min(1),
    /** Probability of the path under the normalised β (Viterbi), when decoded from a search. */
    pathProbability: z.number().min(0).max(1).optional(),
    search: z
      .object({
        config: z.record(z.string(), z.unknown()).optional(),
        source: z.string().optional(),
        epoch: z.number().int().nonnegative().optional(),
        step: z.number().int().nonnegative().optional(),
        createdAt: z.string().optional(),
      })
      .optional(),
  })
  .superRefine((genotype, ctx) => {
    genotype.cell.forEach((block, b) => {
      block.forEach((branch, i) => {
        const match = /^block([0-9]+)$/.exec(branch.input);
        if (match && Number(match[1]) > b) {
          ctx.addIssue({
            code: 'custom',
            path: ['cell', b, i, 'input'],
            message: `block ${b + 1} can only take prev, prev_prev or block1..block${b}; found '${branch.input}'`,
          });
        }
      });
    });
    let previous: number = 4;
    genotype.path.forEach((scale, l) => {
      const ratio = scale / previous;
      if (l === 0 ? scale !== 4 && scale !== 8 : ratio !== 0.5 && ratio !== 1 && ratio !== 2) {
        ctx.addIssue({
          code: 'custom',
          path: ['path', l],
          message: `layer ${l + 1} at s=${scale} cannot follow s=${previous} (a step goes down, stays or goes up one scale)`,
        });
      }
      previous = scale;
    });
  });
export type Genotype = z.infer<typeof GenotypeSchema>;
