import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI_DIR, builtCli } from './helpers.js';

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
