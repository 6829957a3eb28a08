import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI_DIR, REPO, builtCli, spawnCollect } from './helpers.js';

// nx builds every package before this workspace's tests (test dependsOn ^build).
describe('the built autodeeplab bin', () => {
  it('exists with a shebang and starts', async () => {
    expect(existsSync(`${CLI_DIR}/dist/cli.js`), 'packages/cli/dist/cli.js: run the build first (npx nx run-many -t build)').toBe(true);
    const version = await builtCli(['--version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const doctor = await builtCli(['doctor', '--json']);
    expect(doctor.code, doctor.stderr).toBe(0);
    expect(JSON.parse(doctor.stdout).backends.some((b: { available: boolean }) => b.available)).toBe(true);
  });
});

describe('npx autodeeplab in the clone', () => {
  // npm links the bin when it installs, before any build: the linked file is committed and runs the
  // built CLI, else the sources. `--no-install` fails instead of asking the registry.
  it('runs the built CLI', async () => {
    const r = await spawnCollect('npx', ['--no-install', 'autodeeplab', '--version'], { cwd: REPO });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('runs the sources when nothing is built', async () => {
    const r = await spawnCollect('npx', ['--no-install', 'autodeeplab', 'info', 'paper'], { cwd: REPO, env: { AUTODEEPLAB_FROM_SOURCE: '1' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('parameters:');
  });
});
