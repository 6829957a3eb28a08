import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

/**
 * The whole CLI pipeline on tiny synthetic data: search → decode → train → eval → predict, each a
 * separate process, each reading what the previous one wrote.
 */
describe('autodeeplab search → decode → train → eval → predict', () => {
  it('runs end to end and every stage writes what the next one reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-e2e-pipeline-'));
    const config = join(dir, 'search.yaml');
    await writeFile(
      config,
      [
        'dataset: {kind: synthetic, size: 8, height: 33, width: 33, numClasses: 3}',
        'searchSpace: {layers: 2, blocks: 2, filterMultiplier: 2, scales: [4, 8]}',
        'search: {epochs: 2, archStartEpoch: 1, checkpointEvery: 0}',
        'data: {batchSize: 2}',
      ].join('\n'),
    );
    const searchRun = join(dir, 'search');
    const s = await cli(['search', '--config', config, '--run-dir', searchRun, '--json']);
    expect(s.code, s.stderr).toBe(0);
    const summary = JSON.parse(s.stdout);
    expect(summary.steps).toBe(4); // 2 epochs × (4 trainA images / batch 2)
    for (const f of [
      'config.yaml',
      'genotype.json',
      'metrics.jsonl',
      'checkpoint/model.json',
      'genotypes/epoch-001.json',
      'genotypes/epoch-002.json',
      'plots/trellis.png',
    ]) {
      expect(existsSync(join(searchRun, f)), f).toBe(true);
    }
    const metrics = (await readFile(join(searchRun, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics.filter((m) => m.type === 'step')).toHaveLength(4);
    // Progress went to stderr as plain lines (not a TTY).
    expect(s.stderr).toMatch(/search step \d+\/4/);
    expect(s.stderr).not.toContain('\r');

    const d = await cli(['decode', searchRun, '--json']);
    expect(d.code, d.stderr).toBe(0);
    const decoded = JSON.parse(d.stdout);
    const searched = JSON.parse(await readFile(join(searchRun, 'genotype.json'), 'utf8'));
    // genotype.json holds the architecture the search ended with, as its last arch event reports it.
    expect(searched).toEqual(metrics.filter((m) => m.type === 'arch').at(-1).genotype);
    expect(JSON.parse(await readFile(join(searchRun, 'genotypes', 'epoch-002.json'), 'utf8'))).toEqual(searched);
    // Decoding the final checkpoint gives the genotype the search ended with.
    expect(decoded.genotype.cell).toEqual(searched.cell);
    expect(decoded.genotype.path).toEqual(searched.path);
    expect(decoded.genotype.path).toHaveLength(2);

    const trainRun = join(dir, 'train');
    const t = await cli([
      'train',
      '--genotype',
      decoded.files.genotype,
      '-F',
      '2',
      '--set',
      'network.stemFilters=[8,8,8]',
      '--set',
      'network.asppFilters=8',
      '--set',
      'network.lowLevelFilters=4',
      '--set',
      'network.decoderFilters=8',
      '--dataset',
      'synthetic',
      '--set',
      'dataset.size=4',
      '--set',
      'dataset.height=33',
      '--set',
      'dataset.width=33',
      '--set',
      'dataset.numClasses=3',
      '--epochs',
      '1',
      '--batch-size',
      '2',
      '--run-dir',
      trainRun,
      '--json',
    ]);
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout).steps).toBe(2);
    expect(existsSync(join(trainRun, 'network', 'model.json'))).toBe(true);

    const e = await cli(['eval', trainRun, '--json']);
    expect(e.code, e.stderr).toBe(0);
    const evaluation = JSON.parse(e.stdout);
    expect(evaluation.images).toBe(4);
    expect(evaluation.pixels).toBe(4 * 33 * 33);
    expect(evaluation.perClass).toHaveLength(3);
    expect(evaluation.mIoU).toBeGreaterThanOrEqual(0);
    expect(evaluation.mIoU).toBeLessThanOrEqual(1);

    const images = join(dir, 'images');
    const { encodeRgbPng } = await import('@autodeeplab/datasets');
    const { openSynthetic } = await import('@autodeeplab/datasets');
    const sample = await openSynthetic({ kind: 'synthetic', size: 1, height: 33, width: 33, numClasses: 3 }).get(0);
    await import('node:fs/promises').then((fs) => fs.mkdir(images, { recursive: true }));
    await writeFile(join(images, 'a.png'), encodeRgbPng(sample.image, sample.width, sample.height));
    const p = await cli(['predict', trainRun, images, '--out', join(dir, 'pred'), '--json']);
    expect(p.code, p.stderr).toBe(0);
    const predicted = JSON.parse(p.stdout).predictions;
    expect(predicted).toHaveLength(1);
    expect(predicted[0].height).toBe(33);
    expect(Object.values(predicted[0].classes as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(33 * 33);
    expect((await readdir(join(dir, 'pred'))).sort()).toEqual(['a_mask.png', 'a_overlay.png']);
  });
});
