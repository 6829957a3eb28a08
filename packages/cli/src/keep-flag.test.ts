import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BEST_CHECKPOINT_DIR, CHECKPOINT_DIR, METRICS_FILE, readRunState } from '@autodeeplab/optim';
import { BufferStream } from './io.js';
import { Progress } from './progress.js';
import { RunReporter } from './reporter.js';
import { runCaptured } from './testing.js';

const TINY_SEARCH = [
  'dataset: {kind: synthetic, size: 8, height: 33, width: 33, numClasses: 3}',
  'val: {kind: synthetic, size: 4, height: 33, width: 33, numClasses: 3, seed: 5}',
  'searchSpace: {layers: 2, blocks: 2, filterMultiplier: 2, scales: [4, 8]}',
  'search: {epochs: 2, archStartEpoch: 1, checkpointEvery: 0}',
  'data: {batchSize: 2}',
].join('\n');

describe('--keep', () => {
  it('search --keep best,last keeps the best validation in checkpoint-best beside the latest checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adl-keep-'));
    writeFileSync(join(dir, 'search.yaml'), TINY_SEARCH);
    const run = join(dir, 'run');
    const r = await runCaptured(['search', '--config', join(dir, 'search.yaml'), '--run-dir', run, '--keep', 'best,last', '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    const validations = (await readFile(join(run, METRICS_FILE), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; mIoU?: number })
      .filter((e) => e.type === 'validation');
    expect(validations).toHaveLength(2);
    const best = await readRunState(join(run, BEST_CHECKPOINT_DIR));
    expect(best.best?.mIoU).toBe(Math.max(...validations.map((v) => v.mIoU!)));
    expect(best.config.keepBest).toBe(true);
    expect((await readRunState(join(run, CHECKPOINT_DIR))).step).toBe(4);
  });

  it('refuses a list with anything but best and last, naming the flag', async () => {
    const r = await runCaptured(['train', '--dataset', 'synthetic', '--keep', 'best,first', '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--keep.*'best,first'.*expected a comma list of 'best' and 'last'/);
  });
});

describe('RunReporter on a resume that fell back', () => {
  it('warns about each unreadable checkpoint, naming it, the problem and the checkpoint used', () => {
    const stream = new BufferStream(false, 200);
    const start = {
      type: 'start' as const,
      kind: 'train',
      runDir: 'runs/a',
      epochs: 2,
      stepsPerEpoch: 4,
      totalSteps: 8,
      resumedFrom: {
        epoch: 1,
        step: 5,
        checkpoint: 'runs/a/checkpoints/step-000000005',
        refused: [{ checkpoint: 'runs/a/checkpoint', reason: 'runs/a/checkpoint/model.json: not valid JSON' }],
      },
    };
    new RunReporter(new Progress({ stream })).handle(start);
    expect(stream.text).toContain(
      'warning: not resuming from runs/a/checkpoint, it is unreadable (runs/a/checkpoint/model.json: not valid JSON); using runs/a/checkpoints/step-000000005',
    );
  });
});
