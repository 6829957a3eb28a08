import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UserInputError } from '@autodeeplab/core';
import { parse as parseYaml } from 'yaml';
import { NETWORK_DIR, RUN_CONFIG_FILE } from '@autodeeplab/optim';

/** A trained network: `<run>/network`, or a directory written by saveNetwork. Also its run directory, if any. */
export function resolveNetworkDir(path: string): { networkDir: string; runDir?: string } {
  const full = resolve(path);
  if (existsSync(join(full, NETWORK_DIR, 'model.json'))) return { networkDir: join(full, NETWORK_DIR), runDir: full };
  if (existsSync(join(full, 'model.json')) && existsSync(join(full, 'network.json'))) {
    const parent = dirname(full);
    return existsSync(join(parent, RUN_CONFIG_FILE)) ? { networkDir: full, runDir: parent } : { networkDir: full };
  }
  throw new UserInputError(
    `${path}: no trained network here ` +
      `(expected a training run directory with ${NETWORK_DIR}/model.json, or a network directory with model.json and network.json)`,
  );
}

/** The resolved config of a run directory, when there is one. */
export async function readRunConfig(runDir: string | undefined): Promise<Record<string, unknown> | undefined> {
  if (!runDir) return undefined;
  const file = join(runDir, RUN_CONFIG_FILE);
  if (!existsSync(file)) return undefined;
  const data = parseYaml(await readFile(file, 'utf8')) as unknown;
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : undefined;
}
