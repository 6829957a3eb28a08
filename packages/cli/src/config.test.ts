import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSearchRunConfig, parseTrainRunConfig, SearchRunConfigSchema } from './config.js';
import { runCaptured } from './testing.js';

describe('run config schemas', () => {
  it("fill the paper's defaults", () => {
    const c = parseSearchRunConfig({ dataset: { kind: 'synthetic' } }, 'test');
    expect(c.searchSpace).toMatchObject({ layers: 12, blocks: 5, filterMultiplier: 8, scales: [4, 8, 16, 32] });
    expect(c.search).toMatchObject({ epochs: 40, archStartEpoch: 20, weightLr: 0.025, archLr: 3e-3 });
    expect(c.data.batchSize).toBe(2);
    const t = parseTrainRunConfig({ dataset: { kind: 'synthetic' } }, 'test');
    expect(t.genotype).toBe('paper');
    expect(t.network.preset).toBe('S');
    expect(t.train.lr).toBe(0.05);
  });

  it('name the file and each bad field', () => {
    expect(() => parseSearchRunConfig({ dataset: { kind: 'synthetic' }, searchSpace: { layers: 'many' }, extra: 1 }, 'cfg.yaml')).toThrow(
      /cfg\.yaml: invalid: searchSpace\.layers: .*expected number.*Unrecognized key: "extra"/,
    );
    expect(() => parseSearchRunConfig({ dataset: { kind: 'kitti' } }, 'cfg.yaml')).toThrow(/cfg\.yaml: invalid: dataset\.kind/);
    expect(SearchRunConfigSchema.safeParse({}).success).toBe(false);
  });

  it('search with an invalid config file exits 2 naming the file and field, without a stack trace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-cli-cfg-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'dataset:\n  kind: synthetic\nsearchSpace:\n  layers: 0\n');
    const r = await runCaptured(['search', '--config', file, '--run-dir', join(dir, 'run'), '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain('searchSpace.layers');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('flags override the file and --set reaches any field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-cli-cfg-'));
    const file = join(dir, 'c.yaml');
    await writeFile(file, 'dataset:\n  kind: synthetic\nsearchSpace:\n  layers: 0\n');
    // The file's invalid value is overridden by the flag, and --set's invalid value is then reported.
    const r = await runCaptured(['search', '--config', file, '--layers', '2', '--set', 'search.epochs=-1', '--run-dir', join(dir, 'run'), '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('searchSpace.layers');
    expect(r.stderr).toContain('search.epochs');
  });
});
