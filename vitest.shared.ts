import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

const packagesDir = fileURLToPath(new URL('./packages', import.meta.url));

/** Sibling packages resolve to their sources in tests: no build needed to test. */
function workspaceAliases(): Record<string, string> {
  const aliases: Record<string, string> = {};
  for (const dir of readdirSync(packagesDir)) {
    const entry = join(packagesDir, dir, 'src', 'index.ts');
    if (existsSync(entry)) aliases[`@autodeeplab/${dir}`] = entry;
  }
  return aliases;
}

export function packageTests(options: { timeoutMs?: number } = {}) {
  return defineConfig({
    resolve: { alias: workspaceAliases() },
    test: {
      include: ['src/**/*.test.ts', '*.test.ts', 'e2e/**/*.test.ts'],
      environment: 'node',
      testTimeout: options.timeoutMs ?? 120_000,
      hookTimeout: options.timeoutMs ?? 120_000,
      pool: 'forks',
      fileParallelism: false,
    },
  });
}
