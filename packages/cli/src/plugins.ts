import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserInputError } from '@autodeeplab/core';

/**
 * Plugins: ES modules the CLI imports before it reads a config, so that what they register (custom
 * candidate ops through `@autodeeplab/ops`' `registerOp`, their stacked forms) is known when op names
 * are validated. Given by `--plugin <module>` (any command) or a run config's `plugins` list.
 */

/** A path (`./ops.mjs`, `/abs/ops.js`, `ops.mjs`) rather than a package name (`my-ops`, `@me/ops`). */
function isPath(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec) || /\.(m?js|cjs)$/.test(spec);
}

/**
 * The form a plugin is recorded in: a path made absolute (from `baseDir`: the working directory for
 * `--plugin`, the config file's folder for `plugins`), a package name as given. A run's config.yaml
 * keeps this form, so a resumed run loads the same modules from anywhere.
 */
export function resolvePlugin(spec: string, baseDir: string): string {
  return isPath(spec) ? resolve(baseDir, spec) : spec;
}

const loaded = new Set<string>();

/** Imports each plugin once per process; `origin` names where it was given (a flag, a config file). */
export async function loadPlugins(specs: readonly string[], origin: string): Promise<void> {
  for (const spec of specs) {
    if (loaded.has(spec)) continue;
    if (isAbsolute(spec) && !existsSync(spec)) throw new UserInputError(`${origin}: plugin ${spec} does not exist`);
    try {
      await import(/* @vite-ignore */ isAbsolute(spec) ? pathToFileURL(spec).href : spec);
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      const notFound = (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && !isAbsolute(spec);
      throw new UserInputError(
        notFound
          ? `${origin}: plugin '${spec}' is not installed (a package name; give a path such as ./${spec}.mjs for a file)`
          : `${origin}: plugin ${spec} failed to load: ${message}`,
        { cause: error },
      );
    }
    loaded.add(spec);
  }
}

/**
 * A run config's `plugins`, resolved against `baseDir` and loaded; returns the config with them in
 * resolved form (what the run directory's config.yaml records).
 */
export async function loadConfigPlugins(raw: Record<string, unknown>, baseDir: string, source: string): Promise<Record<string, unknown>> {
  const plugins = raw.plugins;
  if (plugins === undefined) return raw;
  if (!Array.isArray(plugins) || plugins.some((p) => typeof p !== 'string' || p === '')) {
    throw new UserInputError(`${source}: plugins: expected a list of module paths or package names, found ${JSON.stringify(plugins)}`);
  }
  const resolved = (plugins as string[]).map((p) => resolvePlugin(p, baseDir));
  await loadPlugins(resolved, `${source}: plugins`);
  return { ...raw, plugins: resolved };
}

/**
 * The plugins of a run: its config's (relative to the config file; a resumed run's config.yaml holds
 * them resolved), then `--plugin`'s (relative to the working directory, loaded already before the
 * command ran), in the resolved form its config.yaml will record.
 */
export async function runPlugins(
  raw: Record<string, unknown>,
  options: { config?: string; plugin?: readonly string[] },
  source: string,
): Promise<Record<string, unknown>> {
  const withConfig = await loadConfigPlugins(raw, options.config ? dirname(resolve(options.config)) : process.cwd(), source);
  const fromFlags = (options.plugin ?? []).map((p) => resolvePlugin(p, process.cwd()));
  if (fromFlags.length === 0) return withConfig;
  const plugins = [...((withConfig.plugins as string[] | undefined) ?? [])];
  for (const p of fromFlags) if (!plugins.includes(p)) plugins.push(p);
  return { ...withConfig, plugins };
}
