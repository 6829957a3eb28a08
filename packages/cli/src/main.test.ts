import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCaptured } from './testing.js';

describe('runCli: flags, help and errors', () => {
  it('prints help with examples and exits 0', async () => {
    const r = await runCaptured(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['search', 'decode', 'train', 'eval', 'predict', 'info', 'doctor', 'demo']) expect(r.stdout).toContain(cmd);
    expect(r.stdout).toContain('Examples:');
  });

  it('every command has --help with examples and the common options', async () => {
    for (const cmd of ['search', 'decode', 'train', 'eval', 'predict', 'info', 'doctor', 'demo']) {
      const r = await runCaptured([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toContain('Examples:');
      for (const flag of ['--backend', '--seed', '--verbose']) expect(r.stdout, `${cmd} ${flag}`).toContain(flag);
    }
  });

  it('without a command prints help on stderr and exits 2', async () => {
    const r = await runCaptured([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: autodeeplab');
  });

  it('an unknown flag exits 2 naming the flag', async () => {
    const r = await runCaptured(['doctor', '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--frobnicate'");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an error found before any work prints one line and exits 2 (train with both --preset and -F)', async () => {
    for (const verbose of [[], ['-v']]) {
      const r = await runCaptured(['train', '--preset', 'S', '-F', '4', '--dataset', 'synthetic', ...verbose]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('give --preset or --filter-multiplier, not both');
    }
  });

  it('a run directory that is a file exits 2 naming it (not a raw EEXIST)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adl-cli-'));
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await runCaptured(['search', '--dataset', 'synthetic', '--run-dir', file, '--epochs', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`run directory ${file}: it is a file, not a directory; choose another --run-dir`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('resuming a search run with train (or a training run with search) says which run it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adl-cli-'));
    writeFileSync(join(dir, 'config.yaml'), 'runDir: x\ndataset: { kind: synthetic }\nsearchSpace: { layers: 2 }\nsearch: { epochs: 1 }\n');
    const r = await runCaptured(['train', '--resume', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--resume ${dir}: that is a search run; continue it with autodeeplab search --resume ${dir}`);
    writeFileSync(join(dir, 'config.yaml'), 'runDir: x\ndataset: { kind: synthetic }\ngenotype: paper\nnetwork: { preset: S }\ntrain: { epochs: 1 }\n');
    const t = await runCaptured(['search', '--resume', dir]);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain(`--resume ${dir}: that is a training run; continue it with autodeeplab train --resume ${dir}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('an unknown command exits 2', async () => {
    const r = await runCaptured(['serch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'serch'");
  });

  it('a bad option value exits 2 naming the option', async () => {
    const r = await runCaptured(['doctor', '--seed', 'abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--seed.*'abc'.*expected an integer/);
    const b = await runCaptured(['doctor', '--backend', 'gpu']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("'gpu' is invalid");
  });

  it('doctor reports the WebGPU adapter (a software rasteriser here), why auto did not take it, and the fix', async () => {
    const r = await runCaptured(['doctor', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      backends: { backend: string; available: boolean; gpu?: boolean; adapter?: { software: boolean; dawnBackend: string } }[];
    };
    const webgpu = report.backends.find((b) => b.backend === 'webgpu');
    expect(webgpu).toMatchObject({ available: true, gpu: false, adapter: { software: true, dawnBackend: 'opengles' } });
    const text = await runCaptured(['doctor']);
    expect(text.stdout).toMatch(/webgpu +available +webgpu \(Dawn\).* via opengles, compatibility feature level, software rasteriser/);
    expect(text.stdout).toContain('Hint: No GPU for WebGPU (no WebGPU adapter: vulkan');
    expect(text.stdout).toContain('Selected backend: wasm');
  });

  it('an unavailable forced backend is a user error (exit 2) without a stack trace', async () => {
    const r = await runCaptured(['info', 'paper', '--backend', 'tensorflow']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^autodeeplab: error: backend 'tensorflow' is not available/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--verbose adds the stack trace', async () => {
    const r = await runCaptured(['info', 'paper', '--backend', 'tensorflow', '--verbose']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('prints the version', async () => {
    const r = await runCaptured(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('doctor', () => {
  it('--json reports every backend, the selected one, versions, threads and memory', async () => {
    const r = await runCaptured(['doctor', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.backends.map((b: { backend: string }) => b.backend)).toEqual(['webgpu', 'tensorflow', 'wasm', 'cpu']);
    // The pure-JS backend is always there; an unavailable backend says why.
    expect(report.backends.find((b: { backend: string }) => b.backend === 'cpu').available).toBe(true);
    for (const b of report.backends) if (!b.available) expect(b.reason).toMatch(/\S/);
    expect(report.versions['@tensorflow/tfjs']).toMatch(/^4\./);
    expect(report.threads.cpus).toBeGreaterThan(0);
    expect(report.memory.total).toBeGreaterThan(report.memory.free * 0.99);
  });

  it('honours AUTODEEPLAB_BACKEND for the selected backend', async () => {
    const r = await runCaptured(['doctor', '--json'], { AUTODEEPLAB_BACKEND: 'cpu' });
    expect(JSON.parse(r.stdout).selected).toEqual({ backend: 'cpu', provider: '@tensorflow/tfjs', skipped: [] });
  });

  it('prints a readable report', async () => {
    const r = await runCaptured(['doctor']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Backends:');
    expect(r.stdout).toContain('Selected backend:');
  });
});
