import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import { memoryBatchSource } from './memory-source.js';
import { CHECKPOINT_DIR, METRICS_FILE } from './run-dir.js';
import { tidyRunDir } from './run-tidy.js';
import { search } from './search.js';
import { TinySearchModel, colourSamples } from './testing/tiny.js';

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  root = await mkdtemp(join(tmpdir(), 'optim-tidy-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const HALF_LINE = '{"type":"step","time":"2026-01-01T00:00:00.000Z","kind":"sea';

describe('tidyRunDir', () => {
  it("removes other processes' abandoned temporary files and cuts a half-written last metrics line", async () => {
    const dir = join(root, 'killed');
    await mkdir(join(dir, CHECKPOINT_DIR), { recursive: true });
    const abandoned = join(CHECKPOINT_DIR, '.model.json.4194301.0.tmp');
    const ours = `.config.yaml.${process.pid}.7.tmp`;
    await writeFile(join(dir, abandoned), 'half a manifest');
    await writeFile(join(dir, ours), 'being written');
    await writeFile(join(dir, CHECKPOINT_DIR, 'model.json'), '{}');
    const whole = '{"type":"start"}\n{"type":"step","step":1}\n';
    await writeFile(join(dir, METRICS_FILE), whole + HALF_LINE);
    const tidied = await tidyRunDir(dir);
    expect(tidied).toEqual({ tempFiles: [abandoned], metricsBytesCut: HALF_LINE.length });
    expect(existsSync(join(dir, abandoned))).toBe(false);
    expect(existsSync(join(dir, ours))).toBe(true);
    expect(existsSync(join(dir, CHECKPOINT_DIR, 'model.json'))).toBe(true);
    expect(await readFile(join(dir, METRICS_FILE), 'utf8')).toBe(whole);
    expect(await tidyRunDir(dir)).toEqual({ tempFiles: [], metricsBytesCut: 0 });
  });

  it('a search starting in a directory with a half-written metrics line leaves only whole JSON lines', async () => {
    const dir = join(root, 'search');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, METRICS_FILE), HALF_LINE);
    const model = new TinySearchModel('tidy');
    const data = {
      trainA: memoryBatchSource(colourSamples(4, { seed: 1 }), { batchSize: 2, seed: 11 }),
      trainB: memoryBatchSource(colourSamples(4, { seed: 2 }), { batchSize: 2, seed: 12 }),
    };
    for await (const _ of search({ model, data, runDir: dir, config: { epochs: 1, archStartEpoch: 0 } }));
    const lines = (await readFile(join(dir, METRICS_FILE), 'utf8')).trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { type: string }).type)).toContain('done');
    model.dispose();
  });
});
