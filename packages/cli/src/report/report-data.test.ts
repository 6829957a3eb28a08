import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepEvent } from '@autodeeplab/optim';
import { stepPoints } from './metric-charts.js';
import { readReportData } from './report-data.js';

const TIME = '2026-01-01T00:00:00.000Z';
const start = (extra: Record<string, unknown> = {}) => ({
  type: 'start',
  time: TIME,
  kind: 'train',
  runDir: 'r',
  epochs: 2,
  stepsPerEpoch: 1,
  totalSteps: 2,
  config: {},
  ...extra,
});
const step = (n: number, loss: number | 'NaN') => ({
  type: 'step',
  time: TIME,
  kind: 'train',
  epoch: n - 1,
  step: n,
  stepInEpoch: 0,
  totalSteps: 2,
  loss,
  learningRate: { weights: 0.1 },
  gradNorm: { weights: 1 },
  imagesPerSecond: 1,
  secondsPerStep: 1,
  etaSeconds: 0,
});
const epoch = (e: number, meanLoss: number) => ({ type: 'epoch', time: TIME, kind: 'train', epoch: e, step: e + 1, meanLoss, seconds: 1 });
const validation = (e: number, mIoU: number) => ({
  type: 'validation',
  time: TIME,
  kind: 'train',
  epoch: e,
  step: e + 1,
  mIoU,
  pixelAccuracy: 0.5,
  perClassIoU: [mIoU, null],
  loss: 1,
  pixels: 10,
});
const lines = (events: object[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'report-data-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function runDir(name: string, metrics: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'metrics.jsonl'), metrics);
  return dir;
}

describe('readReportData', () => {
  it('leaves out a half-written last line and reads the rest', async () => {
    const dir = await runDir('partial', lines([start(), step(1, 2), epoch(0, 2), validation(0, 0.25)]) + '{"type":"step","ti');
    const data = await readReportData(dir);
    expect(data.partialLastLine).toBe(true);
    expect(data.history.status).toEqual({ state: 'running' });
    expect(data.lastEpoch).toEqual({
      epoch: 1,
      meanLoss: 2,
      meanArchLoss: null,
      validation: { mIoU: 0.25, pixelAccuracy: 0.5, loss: 1, perClassIoU: [0.25, null] },
    });
    expect(data.classNames).toEqual(['class 0', 'class 1']);
    expect(data.configSource).toBe('metrics.jsonl (start event)');
  });

  it('names a broken line that is not the last', async () => {
    const dir = await runDir('broken', `${JSON.stringify(start())}\n{oops\n${JSON.stringify(step(1, 2))}\n`);
    await expect(readReportData(dir)).rejects.toThrow(/metrics\.jsonl:2: not valid JSON/);
  });

  it('after a resume keeps the latest event of each step and epoch, and the resumed run decides the status', async () => {
    const events = [
      start(),
      step(1, 3),
      epoch(0, 3),
      { type: 'done', time: TIME, kind: 'train', epoch: 0, step: 1, interrupted: true, seconds: 1 },
      start({ resumedFrom: { epoch: 0, step: 1, checkpoint: 'c' } }),
      step(1, 2.5),
      step(2, 'NaN'), // metrics.jsonl writes a non-finite loss as a string
      epoch(1, 1.5),
      { type: 'done', time: TIME, kind: 'train', epoch: 1, step: 2, interrupted: false, seconds: 1 },
    ];
    const data = await readReportData(await runDir('resumed', lines(events)));
    expect(data.history.steps.map((s) => s.loss)).toEqual([2.5, Number.NaN]);
    expect(data.history.status).toEqual({ state: 'finished' });
    expect(data.lastEpoch).toEqual({ epoch: 2, meanLoss: 1.5, meanArchLoss: null, validation: null });
  });

  it('a folder without metrics.jsonl is the user’s error, named', async () => {
    await expect(readReportData(root)).rejects.toThrow(/metrics\.jsonl not found: expected the run directory of an autodeeplab search or train/);
  });
});

describe('stepPoints', () => {
  it('keeps every step of a short run and averages windows of a long one', () => {
    const steps = [1, 2, 3, 4, 5].map((n) => ({ step: n, loss: n, archLoss: n === 5 ? 10 : undefined }) as StepEvent);
    expect(stepPoints(steps, 10).map((p) => [p.step.step, p.loss])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
    // Windows of ceil(5 / 2) = 3 steps: (1+2+3)/3 at step 3, (4+5)/2 at step 5; the arch loss of step 5 alone.
    expect(stepPoints(steps, 2).map((p) => [p.step.step, p.loss, p.archLoss])).toEqual([
      [3, 2, undefined],
      [5, 4.5, 10],
    ]);
  });
});
