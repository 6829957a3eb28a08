import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The kernels sit below every other package: they may depend on TensorFlow.js only. */
const packageDir = fileURLToPath(new URL('..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('@autodeeplab/kernels layering', () => {
  it('lists no @autodeeplab/* package among its dependencies of any kind', () => {
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const kinds = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];
    const ours = kinds.flatMap((kind) => Object.keys(manifest[kind] ?? {}).filter((name) => name.startsWith('@autodeeplab/')));
    expect(ours).toEqual([]);
  });

  it('imports no @autodeeplab/* package in its sources', () => {
    const offenders = sourceFiles(join(packageDir, 'src')).filter((file) => /from '@autodeeplab\//.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
