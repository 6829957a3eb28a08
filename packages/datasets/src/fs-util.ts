import { existsSync, readdirSync, statSync, readFileSync } from 'node:fs';
import { UserInputError } from '@autodeeplab/core';

export function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Thrown when a dataset folder does not have the expected layout: names the path and the layout.
 * `path`, when given, is the directory expected: a file found in its place is said to be one.
 */
export function layoutError(dataset: string, missing: string, layout: string, path?: string): UserInputError {
  const found = path !== undefined && existsSync(path) && !isDir(path) ? 'it is a file, not a directory' : 'it does not exist';
  return new UserInputError(`${dataset}: expected ${missing} but ${found}.\nThe ${dataset} loader looks for this layout:\n${layout}`);
}

export function requireDir(dataset: string, path: string, layout: string): void {
  if (!isDir(path)) throw layoutError(dataset, `the directory ${path}`, layout, path);
}

export function sortedEntries(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** Ids from a split list: one per line; blank lines and # comments skipped; "a/b/id.jpg x.png" → "id". */
export function readIdList(file: string): string[] {
  const ids: string[] = [];
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) continue;
    const first = text.split(/\s+/)[0]!;
    ids.push(first.includes('/') || /\.(jpe?g|png)$/i.test(first) ? first.replace(/^.*\//, '').replace(/\.[^.]+$/, '') : first);
  }
  return ids;
}

export function firstExisting(paths: readonly string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}

/** Image and label both required: an error naming both files when the label is missing. */
export function missingLabelError(dataset: string, image: string, label: string): UserInputError {
  return new UserInputError(`${dataset}: image ${image} has no label: expected ${label}`);
}
