/**
 * `autodeeplab export --format web`: the page of @autodeeplab/web (built by Vite) with a network in
 * `model/`, as a folder any static server can serve.
 */
import { cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { CHECKPOINT_MANIFEST, UserInputError, readCheckpointManifest, weightsFileName } from '@autodeeplab/core';
import { BUILTIN_OPS } from '@autodeeplab/ops';
import { genotypeOps, type Genotype } from '@autodeeplab/genotype';
import { asOutputError } from './output-path.js';

/** Where the page looks for its network, relative to the site. */
export const WEB_MODEL_DIR = 'model';

export interface WebSite {
  files: number;
  bytes: number;
}

/** The built page of @autodeeplab/web; an error that says how to build it when it is not. */
async function webPageDir(): Promise<string> {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('@autodeeplab/web/package.json');
  } catch (error) {
    throw new Error('@autodeeplab/web is not installed (npm install @autodeeplab/web): it holds the page that --format web copies', { cause: error });
  }
  const dist = join(dirname(packageJson), 'dist');
  if (!(await stat(join(dist, 'index.html')).catch(() => null))) {
    throw new Error(`the web page is not built (no ${join(dist, 'index.html')}): run npm run build (or npx nx build web) first`);
  }
  return dist;
}

/** The page has the built-in ops only: a plugin's op cannot run there. */
function assertBuiltinOps(genotype: Genotype, source: string): void {
  const foreign = genotypeOps(genotype).filter((op) => !(BUILTIN_OPS as readonly string[]).includes(op));
  if (foreign.length > 0) {
    throw new UserInputError(
      `${source}: uses op${foreign.length > 1 ? 's' : ''} ${foreign.map((o) => `'${o}'`).join(', ')} from a plugin; the web page runs the built-in ops only (${BUILTIN_OPS.join(', ')})`,
    );
  }
}

/** An output folder we may replace: absent, empty, or a site this command wrote. */
async function assertReplaceable(out: string): Promise<void> {
  const info = await stat(out).catch(() => null);
  if (!info) return;
  if (!info.isDirectory()) throw new UserInputError(`--out: ${out} is a file; expected a folder for the site (new, empty, or an earlier web export)`);
  const entries = await readdir(out);
  const isEarlierSite = entries.includes('index.html') && entries.includes(WEB_MODEL_DIR);
  if (entries.length > 0 && !isEarlierSite) {
    throw new UserInputError(
      `--out: ${out} is a folder with other files (${entries.slice(0, 3).join(', ')}…); give a new or empty folder, or an earlier web export`,
    );
  }
}

async function folderSize(dir: string): Promise<WebSite> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}

/**
 * Writes the site into `out`: built in a sibling folder and renamed into place, so that `out` is never
 * half written (an earlier export there is replaced whole).
 */
export async function writeWebSite(networkDir: string, genotype: Genotype, out: string): Promise<WebSite> {
  assertBuiltinOps(genotype, join(networkDir, 'genotype.json'));
  await assertReplaceable(out);
  const page = await webPageDir();
  const manifest = await readCheckpointManifest(networkDir);
  const weights = weightsFileName(manifest, join(networkDir, CHECKPOINT_MANIFEST));
  const staging = join(dirname(out), `.${basename(out)}.tmp-${process.pid}`);
  try {
    await mkdir(dirname(out), { recursive: true });
    await cp(page, staging, { recursive: true });
    await mkdir(join(staging, WEB_MODEL_DIR));
    for (const file of [CHECKPOINT_MANIFEST, weights, 'network.json', 'genotype.json']) await cp(join(networkDir, file), join(staging, WEB_MODEL_DIR, file));
    const old = join(dirname(out), `.${basename(out)}.old-${process.pid}`);
    const replacing = (await stat(out).catch(() => null)) !== null;
    if (replacing) await rename(out, old);
    await rename(staging, out);
    if (replacing) await rm(old, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    throw asOutputError(error, out);
  }
  return folderSize(out);
}
