import { GENOTYPE_FORMAT, GENOTYPE_VERSION, GenotypeSchema, type Genotype } from './schema.js';
import { UserInputError } from '@autodeeplab/core';

/**
 * The architecture Auto-DeepLab found on Cityscapes (paper Fig. 3, §5.2): path
 * 4,4,4,8,16,8,16,16,32,32,16,8 and the cell below.
 */
const PAPER: Genotype = {
  format: GENOTYPE_FORMAT,
  version: GENOTYPE_VERSION,
  name: 'paper',
  cell: [
    [
      { op: 'dil_conv_5x5', input: 'prev_prev' },
      { op: 'sep_conv_3x3', input: 'prev' },
    ],
    [
      { op: 'sep_conv_3x3', input: 'prev_prev' },
      { op: 'dil_conv_3x3', input: 'prev' },
    ],
    [
      { op: 'sep_conv_3x3', input: 'block2' },
      { op: 'sep_conv_3x3', input: 'prev_prev' },
    ],
    [
      { op: 'sep_conv_5x5', input: 'block3' },
      { op: 'sep_conv_5x5', input: 'block1' },
    ],
    [
      { op: 'sep_conv_5x5', input: 'block2' },
      { op: 'dil_conv_5x5', input: 'block4' },
    ],
  ],
  path: [4, 4, 4, 8, 16, 8, 16, 16, 32, 32, 16, 8],
  search: { source: 'Liu et al., Auto-DeepLab, CVPR 2019, Cityscapes search (Fig. 3)' },
};

const BUILTIN: Record<string, Genotype> = { paper: GenotypeSchema.parse(PAPER) };

export function builtinGenotypeNames(): string[] {
  return Object.keys(BUILTIN);
}

/** A deep copy of a built-in genotype (`paper`). */
export function builtinGenotype(name: string): Genotype {
  const genotype = BUILTIN[name];
  if (!genotype) {
    throw new UserInputError(`unknown built-in genotype '${name}'; known: ${builtinGenotypeNames().join(', ')}`);
  }
  return structuredClone(genotype);
}
