#!/usr/bin/env node
// The `autodeeplab` command. npm links this file when it installs, which in a clone is before anything
// is built: it runs the built CLI when there is one, else the sources through tsx (a development
// dependency of the clone), so that `npx autodeeplab` works right after `npm ci`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/cli.js', import.meta.url);
if (existsSync(built) && !process.env.AUTODEEPLAB_FROM_SOURCE) {
  await import(built.href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('autodeeplab: error: the CLI is not built (packages/cli/dist/cli.js) and tsx is not installed: run `npm run build`\n');
    process.exit(2);
  }
  register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
  await import(new URL('../src/cli.ts', import.meta.url).href);
}
