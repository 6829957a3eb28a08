import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { METRICS_FILE } from '@autodeeplab/optim';
import { compareTrialIds } from '@autodeeplab/trials';

export const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/** Names of a folder's subfolders that hold a metrics.jsonl (trials' run directories), in numeric order (seed-2 before seed-10). */
export async function trialRunNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const names: string[] = [];
  for (const entry of entries) if (entry.isDirectory() && (await exists(join(dir, entry.name, METRICS_FILE)))) names.push(entry.name);
  return names.sort(compareTrialIds);
}

/**
 * A trials store (the `--store` of `autodeeplab trials` and `worker`: `<store>/<trial-id>/` per trial):
 * no metrics.jsonl of its own, and run directories below it.
 */
export async function isTrialStore(dir: string): Promise<boolean> {
  const path = resolve(dir);
  if (!(await stat(path).catch(() => null))?.isDirectory() || (await exists(join(path, METRICS_FILE)))) return false;
  return (await trialRunNames(path)).length > 0;
}
