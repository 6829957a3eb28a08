import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenotypeSchema } from '@autodeeplab/genotype';
import { listOps } from '@autodeeplab/ops';
import { describe, expect, it } from 'vitest';
import { runExample } from './example.js';

describe('the README programmatic example', () => {
  it('searches with a custom op, decodes, trains and evaluates', async () => {
    const result = await runExample(await mkdtemp(join(tmpdir(), 'adl-e2e-example-')));
    expect(listOps()).toContain('conv_1x1');
    expect(GenotypeSchema.safeParse(result.genotype).success).toBe(true);
    expect(result.genotype.path).toHaveLength(2);
    const ops = new Set(result.genotype.cell.flat().map((b) => b.op));
    for (const op of ops) expect(['skip_connect', 'sep_conv_3x3', 'conv_1x1']).toContain(op); // never 'none'
    expect(result.mIoU).toBeGreaterThanOrEqual(0);
    expect(result.mIoU).toBeLessThanOrEqual(1);
    expect(result.pixelAccuracy).toBeGreaterThan(0);
  });
});
