import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileFormatError, UserInputError } from '@autodeeplab/core';
import { builtinGenotype } from './builtin.js';
import type { Genotype } from './schema.js';
import { loadGenotype, readGenotype, writeGenotype } from './file.js';
import { genotypeOps, validateGenotypeOps } from './parse.js';

const KNOWN = new Set(['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5']);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'decode-genotype-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `mutate(paper as plain JSON)` to a file and returns its path. */
/** A genotype as parsed JSON, open to any mutation a bad file could carry. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests write malformed values on purpose
type JsonGenotype = Record<string, any>;

async function variant(name: string, mutate: (g: JsonGenotype) => void): Promise<string> {
  const data = JSON.parse(JSON.stringify(builtinGenotype('paper')));
  mutate(data);
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(data));
  return path;
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('genotype file', () => {
  it('round-trips the built-in paper genotype unchanged, as pretty JSON, atomically', async () => {
    const paper = builtinGenotype('paper');
    const path = join(dir, 'sub', 'paper.json');
    await writeGenotype(path, paper);
    expect(await readGenotype(path)).toEqual(paper);
    const text = await readFile(path, 'utf8');
    expect(JSON.parse(text)).toEqual(paper);
    expect(text).toContain('\n  "cell": [');
    expect(text.endsWith('\n')).toBe(true);
    expect(await readdir(join(dir, 'sub'))).toEqual(['paper.json']); // no temporary file left behind
    expect(await loadGenotype(path)).toEqual(paper);
  });

  it("loads 'paper' by name and explains an unknown name", async () => {
    expect(await loadGenotype('paper')).toEqual(builtinGenotype('paper'));
    const error = await errorOf(loadGenotype('no-such-genotype'));
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.message).toMatch(/'no-such-genotype' is neither a built-in genotype \(paper\)/);
    const missing = await errorOf(readGenotype(join(dir, 'missing.json')));
    expect(missing.message).toMatch(/genotype file not found: .*missing\.json/);
  });

  it('names the file and the field for invalid files', async () => {
    const cases: [string, (g: JsonGenotype) => void, RegExp][] = [
      ['step.json', (g) => (g.path[3] = 32), /path\[3\]: layer 4 at s=32 cannot follow s=4/],
      ['first.json', (g) => (g.path[0] = 16), /path\[0\]/],
      ['scale.json', (g) => (g.path[5] = 12), /path\[5\]/],
      ['input.json', (g) => (g.cell[0][1].input = 'previous'), /cell\[0\]\[1\]\.input: expected 'prev', 'prev_prev' or 'blockN'/],
      ['later.json', (g) => (g.cell[1][0].input = 'block3'), /cell\[1\]\[0\]\.input: block 2 can only take .*found 'block3'/],
      ['version.json', (g) => (g.version = 2), /version: /],
      ['format.json', (g) => (g.format = 'darts'), /format: /],
      ['branches.json', (g) => g.cell[2].pop(), /cell\[2\]/],
      ['op.json', (g) => (g.cell[4][0].op = 7), /cell\[4\]\[0\]\.op/],
      ['probability.json', (g) => (g.pathProbability = 1.5), /pathProbability/],
    ];
    for (const [name, mutate, pattern] of cases) {
      const path = await variant(name, mutate);
      const error = await errorOf(readGenotype(path));
      expect(error, name).toBeInstanceOf(FileFormatError);
      expect(error.message, name).toContain(path);
      expect(error.message, name).toMatch(pattern);
    }
  });

  it('names the file when it is not JSON', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{"format": "autodeeplab-genotype", ');
    const error = await errorOf(loadGenotype(path));
    expect(error).toBeInstanceOf(FileFormatError);
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/not valid JSON/);
  });

  it('refuses to write an invalid genotype and leaves no file', async () => {
    const bad = { ...builtinGenotype('paper'), path: [4, 32] } as unknown as Genotype;
    const path = join(dir, 'never.json');
    await expect(writeGenotype(path, bad)).rejects.toThrow(/path\[1\]/);
    expect((await readdir(dir)).includes('never.json')).toBe(false);
  });

  it('checks that every op is known, through a caller-supplied predicate', () => {
    const paper = builtinGenotype('paper');
    expect(genotypeOps(paper)).toEqual(['dil_conv_5x5', 'sep_conv_3x3', 'dil_conv_3x3', 'sep_conv_5x5']);
    expect(() => validateGenotypeOps(paper, (name) => KNOWN.has(name))).not.toThrow();
    paper.cell[3]![1].op = 'octave_conv';
    expect(() => validateGenotypeOps(paper, (name) => KNOWN.has(name), 'my.json')).toThrow(FileFormatError);
    expect(() => validateGenotypeOps(paper, (name) => KNOWN.has(name), 'my.json')).toThrow(/my\.json: cell\[3\]\[1\]\.op: unknown op 'octave_conv'/);
  });
});
