import { readFile } from 'node:fs/promises';
import { FileFormatError, UserInputError, parseWithSchema, writeFileAtomic } from '@autodeeplab/core';
import { builtinGenotype, builtinGenotypeNames } from './builtin.js';
import { GenotypeSchema, type Genotype } from './schema.js';

/**
 * Writes a genotype as pretty JSON, atomically (temporary file, fsync, rename). The genotype is
 * validated first so that no invalid file is ever written.
 */
export async function writeGenotype(path: string, genotype: Genotype): Promise<void> {
  const valid = parseWithSchema(GenotypeSchema, genotype, `genotype to write to ${path}`);
  await writeFileAtomic(path, `${JSON.stringify(valid, null, 2)}\n`);
}

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

/** Reads and validates a genotype file. */
export async function readGenotype(path: string): Promise<Genotype> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserInputError(code === 'ENOENT' ? `genotype file not found: ${path}` : `cannot read genotype file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseGenotype(text, path);
}

/**
 * A built-in genotype by name ('paper'), or a genotype file by path. A name wins over a file of the
 * same name only when it contains no path separator and no '.json' suffix.
 */
export async function loadGenotype(nameOrPath: string): Promise<Genotype> {
  const looksLikePath = /[\\/]/.test(nameOrPath) || nameOrPath.endsWith('.json');
  if (!looksLikePath && builtinGenotypeNames().includes(nameOrPath)) return builtinGenotype(nameOrPath);
  if (!looksLikePath) {
    try {
      return await readGenotype(nameOrPath);
    } catch (error) {
      if (error instanceof FileFormatError) throw error;
      throw new UserInputError(`'${nameOrPath}' is neither a built-in genotype (${builtinGenotypeNames().join(', ')}) nor a readable genotype file`, {
        cause: error,
      });
    }
  }
  return readGenotype(nameOrPath);
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
