import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STACK_LINE, cli } from './helpers.js';

describe('the autodeeplab command: user errors exit 2 with one clear message', () => {
  it('a wrong flag', async () => {
    const r = await cli(['train', '--epoch', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--epoch'");
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('an invalid config file names the file and the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-e2e-'));
    const file = join(dir, 'search.yaml');
    await writeFile(file, 'dataset:\n  kind: synthetic\nsearch:\n  epochs: zero\n');
    const r = await cli(['search', '--config', file, '--run-dir', join(dir, 'run')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*search\\.epochs`));
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('a missing genotype file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-e2e-'));
    const missing = join(dir, 'nope', 'genotype.json');
    const r = await cli(['train', '--genotype', missing, '--preset', 'S', '--dataset', 'synthetic', '--run-dir', join(dir, 'run')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`genotype file not found: ${missing}`);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('a missing dataset folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-e2e-'));
    const r = await cli(['train', '--dataset', 'cityscapes', '--data-root', join(dir, 'no-cityscapes'), '--run-dir', join(dir, 'run')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no-cityscapes');
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('an invalid genotype file names the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-e2e-'));
    const file = join(dir, 'genotype.json');
    await writeFile(
      file,
      JSON.stringify({
        format: 'autodeeplab-genotype',
        version: 1,
        cell: [
          [
            { op: 'sep_conv_3x3', input: 'prev' },
            { op: 'skip_connect', input: 'block3' },
          ],
        ],
        path: [4, 32],
      }),
    );
    const r = await cli(['info', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(/cell\[0\]\[1\]\.input|path\[1\]/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('--verbose shows the stack trace', async () => {
    const r = await cli(['info', 'no-such-thing', '--verbose']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(STACK_LINE);
  });
});
