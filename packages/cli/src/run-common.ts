import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { UserInputError, isCheckpoint, writeFileAtomic } from '@autodeeplab/core';
import { applyOverrides, readConfigFile, toYaml } from './config-file.js';
import { CHECKPOINT_DIR, RUN_CONFIG_FILE } from '@autodeeplab/optim';

export interface ConfigSourceOptions {
  config?: string;
  resume?: string;
  set?: string[];
}

/**
 * The raw config of a run: `<run-dir>/config.yaml` when resuming, else the `--config` file, else
 * empty; then the flags, then `--set`. Returns the data and a name for error messages.
 */
export async function loadRawConfig(options: ConfigSourceOptions, flags: Record<string, unknown>): Promise<{ raw: Record<string, unknown>; source: string }> {
  let base: unknown = {};
  let source = 'command-line options';
  if (options.resume) {
    const file = join(options.resume, RUN_CONFIG_FILE);
    if (!existsSync(file)) throw new UserInputError(`--resume ${options.resume}: not a run directory (no ${RUN_CONFIG_FILE} in it)`);
    base = await readConfigFile(file);
    source = file;
    if (options.config) {
      throw new UserInputError('--resume continues a run with its own config; do not also give --config (use flags to change settings that may change)');
    }
  } else if (options.config) {
    base = await readConfigFile(options.config);
    source = options.config;
  }
  const raw = applyOverrides(base, { ...flags, ...(options.resume ? { runDir: options.resume } : {}) }, options.set ?? []);
  if (options.set?.length || Object.values(flags).some((v) => v !== undefined)) {
    if (source !== 'command-line options') source = `${source} (with command-line overrides)`;
  }
  return { raw, source };
}

export function requireRunDir(runDir: string | undefined): string {
  if (!runDir) throw new UserInputError('no run directory: give --run-dir <dir> (or runDir in the config file)');
  return resolve(runDir);
}

/** Writes the resolved config (every default filled in) as `<runDir>/config.yaml`. */
export async function writeResolvedConfig(runDir: string, config: unknown): Promise<string> {
  await mkdir(runDir, { recursive: true });
  const path = join(runDir, RUN_CONFIG_FILE);
  await writeFileAtomic(path, `# Resolved by autodeeplab: every setting of this run, defaults included.\n${toYaml(config)}`);
  return path;
}

/** Whether the user gave a field (before defaults were filled in). */
export function given(raw: Record<string, unknown>, path: string): boolean {
  let node: unknown = raw;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || !(key in node)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return node !== undefined;
}

/**
 * An abort signal raised by the first Ctrl-C (the run stops at the next step with a checkpoint); a
 * second Ctrl-C exits at once.
 */
export function interruptSignal(onFirst: () => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) process.exit(130);
    onFirst();
    controller.abort();
  };
  process.on('SIGINT', handler);
  return { signal: controller.signal, dispose: () => void process.off('SIGINT', handler) };
}

/** `321x321` or `321` → [321, 321]. */
export function parseSize(value: string): [number, number] {
  const match = /^(\d+)(?:[x×,](\d+))?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`expected a size such as 321 or 321x321, found '${value}'.`);
  const h = Number(match[1]);
  return [h, match[2] ? Number(match[2]) : h];
}

/**
 * Refuses to start a new run over an earlier one (its config would be replaced) unless resuming or
 * `--overwrite`.
 */
export async function assertFreshRunDir(runDir: string, options: { resume?: string; overwrite?: boolean }): Promise<void> {
  if (options.resume || options.overwrite) return;
  if (await isCheckpoint(join(runDir, CHECKPOINT_DIR))) {
    throw new UserInputError(`${runDir} already holds a run: continue it with --resume ${runDir}, choose another --run-dir, or pass --overwrite`);
  }
}
