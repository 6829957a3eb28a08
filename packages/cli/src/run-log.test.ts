import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BufferStream, type CliIo } from './io.js';
import { runCli } from './main.js';
import { RunLogFile } from './run-log.js';

const TINY_SEARCH = [
  'dataset: {kind: synthetic, size: 24, height: 33, width: 33, numClasses: 3}',
  'searchSpace: {layers: 2, blocks: 2, filterMultiplier: 2, scales: [4, 8]}',
  'search: {epochs: 1, archStartEpoch: 0, checkpointEvery: 0}',
  'data: {batchSize: 2}',
].join('\n');

describe('<run>/log.txt: what a run prints, as plain text', () => {
  it('a tiny search on a terminal: the log holds its progress lines, epoch summary and end, without escape codes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adl-cli-'));
    const config = join(dir, 'search.yaml');
    writeFileSync(config, TINY_SEARCH);
    const run = join(dir, 'run');
    const stderr = new BufferStream(true, 120);
    const io: CliIo = { stdout: new BufferStream(false), stderr, env: { AUTODEEPLAB_LOG_INTERVAL_MS: '0' }, cwd: process.cwd() };
    expect(await runCli(['search', '--config', config, '--run-dir', run, '--backend', 'cpu'], io)).toBe(0);
    // The terminal got a redrawn bar; the log plain lines.
    expect(stderr.text).toContain('\x1b[2K');
    const log = readFileSync(join(run, 'log.txt'), 'utf8');
    expect(log).toMatch(/^--- \d{4}-\d\d-\d\dT[\d:.]+Z autodeeplab \(pid \d+\) ---\n/);
    expect(log).toContain(`search: 1 epoch × 6 steps, run directory ${run}\n`);
    expect(log).toMatch(/\nsearch step 3\/6 \(50%\) {2}epoch 1\/1 {2}loss [\d.]+/);
    expect(log).toMatch(/\nsearch step 6\/6 \(100%\)/);
    expect(log).toMatch(/\nepoch 1\/1: loss [\d.]+, arch loss [\d.]+ \(\d+s\)\n/);
    expect(log).toMatch(/\ndone: 6 steps in \d+s\n$/);
    expect([log.includes('\x1b'), log.includes('\r')]).toEqual([false, false]);
  });
});

describe('RunLogFile', () => {
  it('appends to what is there, strips terminal escape codes, and writes each chunk at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'adl-cli-'));
    const path = join(dir, 'log.txt');
    writeFileSync(path, 'earlier session\n');
    const log = new RunLogFile(path, () => {});
    log.write('\r\x1b[2Ksearch [###---] 3/6\n');
    // Readable before close: nothing waits in a buffer of this process.
    expect(readFileSync(path, 'utf8')).toBe('earlier session\nsearch [###---] 3/6\n');
    log.close();
  });

  it('a log that cannot be written warns once and the run goes on', () => {
    const dir = mkdtempSync(join(tmpdir(), 'adl-cli-'));
    const warnings: string[] = [];
    const log = new RunLogFile(dir, (line) => warnings.push(line));
    expect(log.write('a line\n')).toBe(false);
    expect(log.write('another\n')).toBe(false);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^warning: ${dir}: cannot write the run log \\(EISDIR`))]);
  });
});
