import { readFile } from 'node:fs/promises';
import { FileFormatError, UserInputError, parseWithSchema, writeFileAtomic } from '@autodeeplab/core';
import { parseGenotype } from './parse.js';
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
