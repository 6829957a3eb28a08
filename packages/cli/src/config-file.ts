import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { FileFormatError, UserInputError } from '@autodeeplab/core';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

/** Reads a YAML or JSON file (by extension; YAML otherwise, which also reads JSON) into plain data. */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UserInputError(code === 'ENOENT' ? `config file '${path}' does not exist` : `cannot read config file '${path}': ${(error as Error).message}`, {
      cause: error,
    });
  }
  const ext = extname(path).toLowerCase();
  try {
    return ext === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new FileFormatError(path, `not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`);
  }
}

export function toYaml(value: unknown): string {
  return stringifyYaml(value, { lineWidth: 0 });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The value at `a.b.c` in a nested object; undefined where the path does not lead. */
export function getPath(source: unknown, path: string): unknown {
  let node = source;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Sets `a.b.c` in a nested object, creating objects on the way. Returns a new object. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const keys = path.split('.');
  if (keys.some((k) => k === '')) throw new UserInputError(`--set: invalid field path '${path}'`);
  // These would walk into (or replace) an object's prototype instead of setting a config field.
  const forbidden = keys.find((k) => FORBIDDEN_KEYS.has(k));
  if (forbidden)
    throw new UserInputError(`--set ${path}: '${forbidden}' is not a config field (no field path may contain __proto__, constructor or prototype)`);
  const out = structuredClone(target);
  let node: Record<string, unknown> = out;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === undefined) node[key] = {};
    else if (!isPlainObject(next)) throw new UserInputError(`--set ${path}: '${key}' is not an object (found ${JSON.stringify(next)})`);
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
  return out;
}

/** `--set searchSpace.layers=4`: the value is read as YAML (numbers, booleans, lists `[4, 8]`). */
export function parseAssignment(text: string): { path: string; value: unknown } {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserInputError(`--set '${text}': expected field.path=value`);
  const path = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  let value: unknown;
  try {
    value = parseYaml(raw);
  } catch {
    value = raw;
  }
  return { path, value: value === null && raw.trim() !== 'null' ? raw : value };
}

/** Applies flag overrides (`undefined` values are skipped) and `--set` assignments, in that order. */
export function applyOverrides(base: unknown, flags: Record<string, unknown>, assignments: readonly string[] = []): Record<string, unknown> {
  if (base !== undefined && base !== null && !isPlainObject(base)) {
    throw new UserInputError(`the config must be a mapping of fields, found ${Array.isArray(base) ? 'a list' : typeof base}`);
  }
  let out: Record<string, unknown> = isPlainObject(base) ? structuredClone(base) : {};
  for (const [path, value] of Object.entries(flags)) if (value !== undefined) out = setPath(out, path, value);
  for (const text of assignments) {
    const { path, value } = parseAssignment(text);
    out = setPath(out, path, value);
  }
  return out;
}
