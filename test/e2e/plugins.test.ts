/**
 * A custom op from the command line: a plugin module (fixtures/conv1x1-plugin.mjs, written as a user
 * would, importing the installed @autodeeplab/ops) registers `conv_1x1`; the built CLI searches with
 * it as the only candidate, decodes, trains and predicts, and a resumed search finds the plugin in
 * its config.yaml without the flag.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, builtCli } from './helpers.js';

const PLUGIN = 'test/e2e/fixtures/conv1x1-plugin.mjs';
const TINY_DATA = ['--dataset', 'synthetic', '--set', 'dataset.size=4', '--set', 'dataset.height=17', '--set', 'dataset.width=17', '--crop', '17x17'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'adl-plugins-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CLI plugins', () => {
  it('without the plugin the op is unknown; a missing plugin file is named', async () => {
    const search = await builtCli(['search', ...TINY_DATA, '--set', 'searchSpace.ops=[conv_1x1]', '--run-dir', join(dir, 'no-plugin')]);
    expect(search.code).toBe(2);
    expect(search.stderr).toContain("unknown op 'conv_1x1'");
    const missing = await builtCli(['doctor', '--plugin', './no-such-plugin.mjs']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`--plugin: plugin ${join(REPO, 'no-such-plugin.mjs')} does not exist`);
  });

  it('searches, decodes, trains and predicts with a plugin op; a resumed search loads it from its config', async () => {
    const searchRun = join(dir, 'search');
    const tiny = [
      '--layers',
      '2',
      '--filter-multiplier',
      '2',
      '--epochs',
      '2',
      '--arch-start-epoch',
      '1',
      '--set',
      'searchSpace.ops=[conv_1x1]',
      '--set',
      'searchSpace.scales=[4, 8]',
    ];
    const s = await builtCli(['search', '--plugin', PLUGIN, ...TINY_DATA, ...tiny, '--run-dir', searchRun, '--json']);
    expect(s.code, s.stderr).toBe(0);
    const genotype = JSON.parse(await readFile(join(searchRun, 'genotype.json'), 'utf8')) as { cell: { op: string }[][] };
    expect(new Set(genotype.cell.flat().map((b) => b.op))).toEqual(new Set(['conv_1x1']));
    expect(await readFile(join(searchRun, 'config.yaml'), 'utf8')).toContain(join(REPO, PLUGIN));

    const d = await builtCli(['decode', searchRun, '--plugin', PLUGIN, '--json']);
    expect(d.code, d.stderr).toBe(0);

    // Finished: the resume validates the recorded config (conv_1x1 among its ops) and ends as the run did.
    const resumed = await builtCli(['search', '--resume', searchRun, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);

    const trainRun = join(dir, 'train');
    const t = await builtCli([
      'train',
      '--plugin',
      PLUGIN,
      '--genotype',
      join(searchRun, 'genotype.json'),
      '-F',
      '2',
      ...TINY_DATA,
      '--epochs',
      '1',
      '--run-dir',
      trainRun,
    ]);
    expect(t.code, t.stderr).toBe(0);

    const images = join(dir, 'images');
    await mkdir(images, { recursive: true });
    const { encodeRgbPng, openSynthetic } = await import('@autodeeplab/datasets');
    const sample = await openSynthetic({ kind: 'synthetic', size: 1, height: 17, width: 17, numClasses: 4 }).get(0);
    await writeFile(join(images, 'a.png'), encodeRgbPng(sample.image, sample.width, sample.height));
    const p = await builtCli(['predict', trainRun, images, '--plugin', PLUGIN, '--out', join(dir, 'pred'), '--json']);
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).predictions).toHaveLength(1);
  });
});
