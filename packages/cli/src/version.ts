import { readFileSync } from 'node:fs';

/** The CLI's version, read from its package.json (one level above both `src/` and `dist/`). */
function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export const CLI_VERSION = readVersion();
