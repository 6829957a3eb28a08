import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, saveCheckpoint } from '@autodeeplab/core';
import { TrellisTopology, cellEdges } from '@autodeeplab/genotype';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../testing.js';

const OPS = ['none', 'skip_connect', 'sep_conv_3x3'];

/**
 * A search checkpoint whose α and β are set by hand so that the decoded genotype is known:
 * block 1 keeps prev (sep_conv_3x3) and prev_prev (skip_connect); block 2 keeps block1 (sep_conv_3x3)
 * and prev (skip_connect), although `none` has the largest logit on block 2's prev_prev edge; β puts
 * almost all mass on the path 4 → 8 → 8.
 */
async function writeSearchCheckpoint(dir: string): Promise<void> {
  const edges = cellEdges(2);
  const alpha = edges.map(() => [0, 0, 0]);
  const set = (block: number, input: string, op: string, value: number) => {
    const edge = edges.find((e) => e.block === block && e.input === input)!;
    alpha[edge.index]![OPS.indexOf(op)] = value;
  };
  set(1, 'prev', 'sep_conv_3x3', 5);
  set(1, 'prev_prev', 'skip_connect', 3);
  set(2, 'prev_prev', 'none', 9);
  set(2, 'block1', 'sep_conv_3x3', 6);
  set(2, 'prev', 'skip_connect', 4);
  const topology = new TrellisTopology(3, [4, 8]);
  const beta = new Array(topology.betaSize).fill(0);
  beta[topology.edge(0, 4, 8)!.index] = 8;
  beta[topology.edge(1, 8, 8)!.index] = 8;
  beta[topology.edge(2, 8, 8)!.index] = 8;
  const tensors = { 'model/alpha': tf.tensor2d(alpha), 'model/beta': tf.tensor1d(beta) };
  await saveCheckpoint(join(dir, 'checkpoint'), tensors, {
    step: 12,
    next: { epoch: 3, index: 0 },
    config: { searchSpace: { layers: 3, blocks: 2, scales: [4, 8], ops: OPS, filterMultiplier: 2, numClasses: 3 } },
  });
  Object.values(tensors).forEach((t) => t.dispose());
}

describe('autodeeplab decode', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('decodes the cell (top-2 edges, none excluded) and the path from a run directory, with plots', async () => {
    const run = await mkdtemp(join(tmpdir(), 'adl-decode-'));
    await writeSearchCheckpoint(run);
    const r = await runCaptured(['decode', run, '--json', '--backend', 'cpu']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { genotype, files } = JSON.parse(r.stdout);
    expect(genotype.cell).toEqual([
      [
        { op: 'sep_conv_3x3', input: 'prev' },
        { op: 'skip_connect', input: 'prev_prev' },
      ],
      [
        { op: 'sep_conv_3x3', input: 'block1' },
        { op: 'skip_connect', input: 'prev' },
      ],
    ]);
    expect(genotype.path).toEqual([8, 8, 8]);
    expect(genotype.search.step).toBe(12);
    expect(files.genotype).toBe(join(run, 'decoded', 'genotype.json'));
    expect(JSON.parse(await readFile(files.genotype, 'utf8')).path).toEqual([8, 8, 8]);
    for (const name of ['trellis.png', 'cell.png', 'alpha.png', 'trellis.svg']) expect(existsSync(join(run, 'decoded', name)), name).toBe(true);
  });

  it('prints a readable genotype without --json and honours --out and --no-plots', async () => {
    const run = await mkdtemp(join(tmpdir(), 'adl-decode-'));
    await writeSearchCheckpoint(run);
    const out = join(run, 'elsewhere');
    const r = await runCaptured(['decode', join(run, 'checkpoint'), '--out', out, '--no-plots', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('path (downsample rate per layer): 8 8 8');
    expect(r.stdout).toContain('sep_conv_3x3 (block1)');
    expect(existsSync(join(out, 'genotype.json'))).toBe(true);
    expect(existsSync(join(out, 'trellis.png'))).toBe(false);
  });

  it('a directory without a checkpoint is a user error naming it', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'adl-decode-'));
    const r = await runCaptured(['decode', empty, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${empty}: no checkpoint here`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
