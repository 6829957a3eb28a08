/**
 * The guard of the page's build: Vite builds of small entries, with the guard as the page uses it.
 * Our code importing a Node built-in fails the build, naming the file; the packages' browser entries
 * (what the page imports) pass it, and their Node entries do not.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noNodeBuiltins } from './no-node-builtins.ts';
import { isOwnCode } from '../vite.config.ts';

let root: string;
beforeAll(async () => {
  // Inside the package, so that the entries resolve @autodeeplab/* as the page does (node_modules above).
  root = await mkdtemp(join(fileURLToPath(new URL('..', import.meta.url)), '.guard-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Builds one entry module (its text) in memory, with or without the `browser` export condition. */
async function buildEntry(name: string, source: string, conditions: string[]): Promise<void> {
  const entry = join(root, `${name}.ts`);
  await writeFile(entry, source);
  await build({
    configFile: false,
    logLevel: 'silent',
    root,
    plugins: [noNodeBuiltins((file) => file === entry || isOwnCode(file))],
    resolve: { conditions },
    build: { write: false, lib: { entry, formats: ['es'], fileName: name }, rollupOptions: { external: [/^@tensorflow\//, 'zod'] } },
  });
}

describe('noNodeBuiltins', () => {
  it('fails a build whose own code imports a Node built-in, naming the file and the module', async () => {
    const build = buildEntry('reads-files', "import { readFileSync } from 'node:fs';\nexport const text = readFileSync('x', 'utf8');\n", ['browser']);
    await expect(build).rejects.toThrow(/reads-files\.ts imports the Node built-in 'node:fs'/);
  });

  it('passes the browser entries of core, genotype, model and datasets', async () => {
    const source = [
      "export { loadCheckpointFromUrl } from '@autodeeplab/core';",
      "export { parseGenotype } from '@autodeeplab/genotype';",
      "export { loadNetworkFromUrl, segmentPixels } from '@autodeeplab/model';",
      "export { paletteForClasses } from '@autodeeplab/datasets';",
    ].join('\n');
    await expect(buildEntry('browser-entries', source, ['browser', 'module'])).resolves.toBeUndefined();
  });

  it('fails core’s Node entry (atomic writes, checkpoint directories), naming the package file', async () => {
    const build = buildEntry('node-entry', "export { loadCheckpoint } from '@autodeeplab/core';\n", ['node', 'import']);
    await expect(build).rejects.toThrow(/packages\/core\/dist\/index\.js imports the Node built-in '(node:)?(fs|crypto|path)/);
  });
});
