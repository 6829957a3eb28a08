import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The house's layering, checked on the package manifests and on the sources themselves: each package
 * may depend only on packages earlier in this order (so the graph has no cycle), and imports a
 * sibling only by its name, declared in its package.json.
 */
const LAYER_ORDER = [
  'kernels',
  'core',
  'genotype',
  'ops',
  'heads',
  'optim',
  'datasets',
  'search-space',
  'decode',
  'model',
  'web',
  'export',
  'trials',
  'cli',
] as const;

/** Packages whose manifest may name only these siblings, whatever the order above allows. */
const ONLY: Record<string, readonly string[]> = { kernels: [], optim: ['core'] };

const root = fileURLToPath(new URL('..', import.meta.url));
const packagesDir = join(root, 'packages');

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function manifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

const siblings = (deps: Record<string, string> | undefined): string[] =>
  Object.keys(deps ?? {})
    .filter((name) => name.startsWith('@autodeeplab/'))
    .map((name) => name.slice('@autodeeplab/'.length));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Module specifiers of static imports, dynamic imports and re-exports. */
function importsOf(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)) found.push(match[1]!);
  return found;
}

const packages = readdirSync(packagesDir).filter((dir) => statSync(join(packagesDir, dir, 'package.json'), { throwIfNoEntry: false }));

describe('package layering', () => {
  it('knows every package', () => {
    expect([...packages].sort()).toEqual([...LAYER_ORDER].sort());
  });

  it.each(packages)('%s depends only on packages below it', (pkg) => {
    const m = manifest(join(packagesDir, pkg));
    const rank = LAYER_ORDER.indexOf(pkg as (typeof LAYER_ORDER)[number]);
    const all = [...siblings(m.dependencies), ...siblings(m.devDependencies), ...siblings(m.peerDependencies)];
    const above = all.filter((dep) => LAYER_ORDER.indexOf(dep as (typeof LAYER_ORDER)[number]) >= rank);
    expect(above, `${pkg}/package.json names packages at or above its layer`).toEqual([]);
    const only = ONLY[pkg];
    if (only)
      expect(
        all.filter((dep) => !only.includes(dep)),
        `${pkg}/package.json may name only ${JSON.stringify(only)}`,
      ).toEqual([]);
  });

  it.each(packages)('%s imports siblings only by name, and only those its package.json declares', (pkg) => {
    const dir = join(packagesDir, pkg);
    const m = manifest(dir);
    const runtime = new Set(siblings(m.dependencies).concat(siblings(m.peerDependencies)));
    const forTests = new Set([...runtime, ...siblings(m.devDependencies)]);
    const problems: string[] = [];
    for (const file of sourceFiles(join(dir, 'src'))) {
      const isTest = /\.test\.ts$|\/testing\//.test(file);
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        const where = relative(root, file);
        if (spec.startsWith('@autodeeplab/')) {
          const [, name, ...rest] = spec.split('/');
          if (rest.length > 0) problems.push(`${where}: '${spec}' reaches into a package's files`);
          else if (name !== pkg && !(isTest ? forTests : runtime).has(name!)) problems.push(`${where}: '${spec}' is not declared in package.json`);
        } else if (spec.startsWith('.') && relative(dir, join(file, '..', spec)).startsWith('..')) {
          problems.push(`${where}: '${spec}' leaves the package`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('finds the imports it checks (the scanner is not blind)', () => {
    expect(importsOf("import { a } from '@autodeeplab/core';\nexport * from './x.js';\nconst m = await import('@autodeeplab/ops');")).toEqual([
      '@autodeeplab/core',
      './x.js',
      '@autodeeplab/ops',
    ]);
  });
});
