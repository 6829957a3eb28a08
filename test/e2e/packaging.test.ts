/**
 * The packages as a user gets them: each package's tarball (`npm pack`, from the built dist) passes
 * publint and Are the Types Wrong, carries the LICENSE, and the tarballs install into an empty
 * project, where the README's programmatic example runs against the installed copies only.
 */
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, spawnCollect } from './helpers.js';

const PACKAGES = readdirSync(join(REPO, 'packages')).sort();
/** What the README's programmatic example imports, and what those depend on. */
const EXAMPLE_PACKAGES = ['kernels', 'core', 'genotype', 'ops', 'heads', 'search-space', 'decode', 'model', 'datasets', 'optim'];
const BIN = join(REPO, 'node_modules', '.bin');

let root: string;
const tarballs = new Map<string, string>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adl-packaging-'));
  for (const name of PACKAGES) {
    const packed = await spawnCollect('npm', ['pack', '--pack-destination', root, '--json'], { cwd: join(REPO, 'packages', name) });
    expect(packed.code, packed.stderr).toBe(0);
    const { filename, files } = (JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[])[0]!;
    expect(
      files.map((f) => f.path),
      `${name} ships its LICENSE`,
    ).toContain('LICENSE');
    tarballs.set(name, join(root, filename));
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the packed packages', () => {
  it('pass publint (strict) and Are the Types Wrong (ESM only) and carry the publishing fields', async () => {
    for (const [name, tarball] of tarballs) {
      const lint = await spawnCollect(join(BIN, 'publint'), ['run', tarball, '--strict'], { cwd: root });
      expect(lint.code, `${name}: ${lint.stdout}${lint.stderr}`).toBe(0);
      const types = await spawnCollect(join(BIN, 'attw'), [tarball, '--profile', 'esm-only', '--format', 'ascii'], { cwd: root });
      expect(types.code, `${name}: ${types.stdout}${types.stderr}`).toBe(0);
      const manifest = JSON.parse(readFileSync(join(REPO, 'packages', name, 'package.json'), 'utf8')) as Record<string, unknown>;
      expect(manifest, name).toMatchObject({ license: 'Apache-2.0', engines: { node: '>=20.9' }, publishConfig: { access: 'public' } });
      expect(manifest.repository, name).toMatchObject({ type: 'git', directory: `packages/${name}` });
    }
  });

  it('install by tarball into an empty project, where the README example runs with a custom op', async () => {
    const project = join(root, 'user-project');
    await spawnCollect('mkdir', ['-p', project], { cwd: root });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
    const install = await spawnCollect(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', ...EXAMPLE_PACKAGES.map((name) => tarballs.get(name)!)],
      { cwd: project },
    );
    expect(install.code, install.stderr).toBe(0);
    copyFileSync(join(REPO, 'test', 'e2e', 'example.ts'), join(project, 'example.ts'));
    writeFileSync(
      join(project, 'run.ts'),
      [
        "import { fileURLToPath } from 'node:url';",
        "import { runExample } from './example.ts';",
        "const result = await runExample(fileURLToPath(new URL('./runs', import.meta.url)));",
        'console.log(JSON.stringify({ ...result, resolved: import.meta.resolve("@autodeeplab/ops") }));',
      ].join('\n'),
    );
    // tsx only strips the example's types: every @autodeeplab import resolves inside the project.
    const run = await spawnCollect(process.execPath, ['--import', join(REPO, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs'), 'run.ts'], { cwd: project });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { genotype: { path: number[] }; mIoU: number; resolved: string };
    expect(result.resolved).toContain(join(project, 'node_modules', '@autodeeplab', 'ops'));
    expect(result.genotype.path).toHaveLength(2);
    expect(result.mIoU).toBeGreaterThanOrEqual(0);
    expect(result.mIoU).toBeLessThanOrEqual(1);
  });
});
