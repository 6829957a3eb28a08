/** Genotypes from JSON text and the ops they use, without a file system (file.ts reads and writes files). */
import { FileFormatError, parseWithSchema } from '@autodeeplab/core';
import { GenotypeSchema, type Genotype } from './schema.js';

/** Parses genotype JSON text; errors name `source` and, for a schema problem, each field. */
export function parseGenotype(text: string, source: string): Genotype {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new FileFormatError(source, `not valid JSON (${(error as Error).message})`, { cause: error });
  }
  return parseWithSchema(GenotypeSchema, data, source);
}

/** Ops a genotype uses, each once, in order of first use. */
export function genotypeOps(genotype: Genotype): string[] {
  return [...new Set(genotype.cell.flatMap((block) => block.map((branch) => branch.op)))];
}

/**
 * Checks that every op a genotype names is known. `isKnownOp` is the caller's registry query (e.g.
 * `hasOp` from @autodeeplab/ops), so that decoding does not depend on the ops package. Throws a
 * FileFormatError naming `source` and each unknown op with where it is used.
 */
export function validateGenotypeOps(genotype: Genotype, isKnownOp: (name: string) => boolean, source = 'genotype'): void {
  const problems: string[] = [];
  genotype.cell.forEach((block, b) =>
    block.forEach((branch, i) => {
      if (!isKnownOp(branch.op)) problems.push(`cell[${b}][${i}].op: unknown op '${branch.op}'`);
    }),
  );
  if (problems.length > 0) throw new FileFormatError(source, `${problems.join('; ')} (not registered)`);
}
