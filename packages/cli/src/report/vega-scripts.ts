import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NotAvailableError } from '../errors.js';

/** The browser builds of vega and vega-lite, inlined in a report so that it needs no network. */
export interface VegaScripts {
  vega: string;
  vegaLite: string;
}

/**
 * The packages' exports name only their module entries; their browser builds (UMD, defining the
 * globals `vega` and `vegaLite`) sit next to those entries in the same build folder.
 */
async function browserBuild(pkg: string, file: string): Promise<string> {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch (error) {
    throw new NotAvailableError('autodeeplab report', `the package ${pkg} is not installed (${(error as Error).message})`);
  }
  const path = join(dirname(entry), file);
  return readFile(path, 'utf8').catch((error: unknown) => {
    throw new NotAvailableError('autodeeplab report', `${path} could not be read (${(error as Error).message})`);
  });
}

export async function readVegaScripts(): Promise<VegaScripts> {
  const [vega, vegaLite] = await Promise.all([browserBuild('vega', 'vega.min.js'), browserBuild('vega-lite', 'vega-lite.min.js')]);
  return { vega, vegaLite };
}
