import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileWriteError } from '@autodeeplab/core';
import { appendJsonLine } from './metrics-log.js';

describe('appendJsonLine', () => {
  it('a failed append names the file (as the CLI reports a full disk)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adl-metrics-'));
    writeFileSync(join(dir, 'a-file'), '');
    const path = join(dir, 'a-file', 'metrics.jsonl');
    const failed = appendJsonLine(path, { type: 'step' });
    await expect(failed).rejects.toThrow(FileWriteError);
    await expect(appendJsonLine(path, { type: 'step' })).rejects.toMatchObject({ path, code: 'ENOTDIR' });
  });
});
