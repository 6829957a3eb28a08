import { mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileFormatError, UserInputError, initBackend } from '@autodeeplab/core';
import type { RunEvent } from './events.js';
import { memoryBatchSource } from './memory-source.js';
import { readRunState } from './run-checkpoint.js';
import { CHECKPOINT_DIR, HISTORY_DIR, historyCheckpointName } from './run-dir.js';
import { train, type TrainConfigInput } from './train.js';
import { TinySearchModel, colourSamples, maxAbsDifference, snapshot } from './testing/tiny.js';

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  root = await mkdtemp(join(tmpdir(), 'optim-fallback-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
let runs = 0;
const runDir = () => join(root, `run${runs++}`);

// 8 samples in batches of 2: 4 steps per epoch.
const data = () => ({ train: memoryBatchSource(colourSamples(8, { seed: 4 }), { batchSize: 2, seed: 5 }) });
// keepLast is left at its default: the fallback must work without any setting.
const CONFIG: TrainConfigInput = { steps: 10, checkpointEvery: 1, validateEvery: 0 };

async function collect(events: AsyncIterable<RunEvent>, stop?: (e: RunEvent) => boolean): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for await (const e of events) {
    out.push(e);
    if (stop?.(e)) break;
  }
  return out;
}

/** A run stopped after its checkpoint at `step` (as a kill right after it would leave it). */
async function stoppedRun(step: number): Promise<string> {
  const dir = runDir();
  const model = new TinySearchModel('fallback-first', { seed: 8 });
  await collect(train({ model, data: data(), runDir: dir, config: CONFIG }), (e) => e.type === 'checkpoint' && e.step === step);
  model.dispose();
  return dir;
}

async function weightsFile(checkpoint: string): Promise<string> {
  const name = (await readdir(checkpoint)).find((f) => /^weights-[0-9a-f]+\.bin$/.test(f));
  return join(checkpoint, name!);
}

const corruptions = [
  {
    what: 'a truncated weights file',
    reason: /has \d+ bytes, expected \d+ \(truncated or corrupt\)/,
    damage: async (dir: string) => truncate(await weightsFile(dir), 10),
  },
  {
    what: 'model.json that is not JSON',
    reason: /not valid JSON/,
    damage: (dir: string) => writeFile(join(dir, 'model.json'), '{"format": "autodeeplab-chec'),
  },
];

describe('resume with a damaged latest checkpoint', () => {
  it('keeps two step copies by default', async () => {
    const dir = await stoppedRun(5);
    expect((await readdir(join(dir, HISTORY_DIR))).sort()).toEqual([historyCheckpointName(4), historyCheckpointName(5)]);
  });

  it.each(corruptions)('falls back to the newest step copy when the latest has $what, and ends as the uninterrupted run', async ({ reason, damage }) => {
    const full = new TinySearchModel('fallback-full', { seed: 8 });
    const reference = await collect(train({ model: full, data: data(), runDir: runDir(), config: CONFIG }));

    const dir = await stoppedRun(5);
    await damage(join(dir, CHECKPOINT_DIR));
    const resumed = new TinySearchModel('fallback-resumed', { seed: 1 });
    const events = await collect(train({ model: resumed, data: data(), runDir: dir, config: CONFIG, resume: true }));
    const copy = join(dir, HISTORY_DIR, historyCheckpointName(5));
    expect(events[0]).toMatchObject({
      type: 'start',
      resumedFrom: { step: 5, checkpoint: copy, refused: [{ checkpoint: join(dir, CHECKPOINT_DIR), reason: expect.stringMatching(reason) }] },
    });
    expect(events.filter((e) => e.type === 'step').map((e) => e.step)).toEqual([6, 7, 8, 9, 10]);
    expect(events.at(-1)).toMatchObject({ type: 'done', step: 10 });
    expect(events.at(-1)).toEqual({ ...(reference.at(-1) as Extract<RunEvent, { type: 'done' }>), time: expect.any(String), seconds: expect.any(Number) });
    // The oracle: the same run without the interruption (bit-exact on the cpu backend).
    const a = snapshot(full);
    const b = snapshot(resumed);
    for (const [path, values] of a) expect(maxAbsDifference(values, b.get(path)!), path).toBe(0);
    // The damaged latest was replaced by the resumed run's own checkpoints.
    expect((await readRunState(join(dir, CHECKPOINT_DIR))).step).toBe(10);
    full.dispose();
    resumed.dispose();
  });

  it('falls back past damaged step copies too, newest first', async () => {
    const dir = await stoppedRun(6);
    await damage(join(dir, CHECKPOINT_DIR));
    await damage(join(dir, HISTORY_DIR, historyCheckpointName(6)));
    const model = new TinySearchModel('fallback-two', { seed: 1 });
    const events = await collect(train({ model, data: data(), runDir: dir, config: CONFIG, resume: true }));
    const start = events[0];
    expect(start).toMatchObject({ type: 'start', resumedFrom: { step: 5, checkpoint: join(dir, HISTORY_DIR, historyCheckpointName(5)) } });
    const refused = start?.type === 'start' ? start.resumedFrom?.refused?.map((r) => r.checkpoint) : [];
    expect(refused).toEqual([join(dir, CHECKPOINT_DIR), join(dir, HISTORY_DIR, historyCheckpointName(6))]);
    expect(events.at(-1)).toMatchObject({ type: 'done', step: 10 });
    model.dispose();

    async function damage(checkpoint: string) {
      await truncate(await weightsFile(checkpoint), 3);
    }
  });

  it('names every checkpoint and its problem when none is readable; a checkpoint named directly is not replaced', async () => {
    const dir = await stoppedRun(2);
    for (const checkpoint of [join(dir, CHECKPOINT_DIR), join(dir, HISTORY_DIR, historyCheckpointName(1)), join(dir, HISTORY_DIR, historyCheckpointName(2))]) {
      await truncate(await weightsFile(checkpoint), 0);
    }
    const model = new TinySearchModel('fallback-none', { seed: 1 });
    const resume = (from: boolean | string) => collect(train({ model, data: data(), runDir: dir, config: CONFIG, resume: from }));
    await expect(resume(true)).rejects.toThrow(UserInputError);
    await expect(resume(true)).rejects.toThrow(/no checkpoint there is readable .*checkpoint\/weights-.*step-000000002\/weights-.*step-000000001\/weights-/);
    await expect(resume(join(dir, CHECKPOINT_DIR))).rejects.toThrow(FileFormatError);
    model.dispose();
  });

  it('does not fall back when the checkpoint is readable but the settings differ', async () => {
    const dir = await stoppedRun(2);
    const model = new TinySearchModel('fallback-settings', { seed: 1 });
    await expect(collect(train({ model, data: data(), runDir: dir, config: { ...CONFIG, lr: 0.01 }, resume: true }))).rejects.toThrow(
      /cannot resume from .*checkpoint: setting 'lr'/,
    );
    model.dispose();
  });
});
