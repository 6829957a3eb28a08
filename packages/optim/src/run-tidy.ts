import { createReadStream } from 'node:fs';
import { open, readdir, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { removeAbandonedTempFiles } from '@autodeeplab/core';
import { BEST_CHECKPOINT_DIR, CHECKPOINT_DIR, HISTORY_DIR, metricsPath } from './run-dir.js';

/** What a run killed in the middle of a write left behind, cleared when the next run starts there. */
export interface TidiedRun {
  /** Temporary files of interrupted atomic writes, removed (paths relative to the run directory). */
  tempFiles: string[];
  /** Bytes of a last, unfinished line cut from metrics.jsonl (a full disk or a kill mid-append). */
  metricsBytesCut: number;
}

/** Bytes after the last newline of `path` (0 when it ends with one, is empty or is missing). */
async function unfinishedTail(path: string): Promise<{ size: number; tail: number }> {
  const size = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  if (size === 0) return { size, tail: 0 };
  const file = await open(path, 'r');
  try {
    // Read backwards in blocks until a newline: metrics lines are short.
    const block = Buffer.alloc(Math.min(size, 1 << 16));
    for (let end = size; end > 0;) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await file.read(block, 0, end - start, start);
      const newline = block.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (newline >= 0) return { size, tail: end - (start + newline + 1) };
      end = start;
    }
    return { size, tail: size };
  } finally {
    await file.close();
  }
}

/**
 * Clears what an interrupted write leaves in a run directory: abandoned temporary files beside the
 * checkpoints, and a half-written last line of metrics.jsonl (which the next event would otherwise
 * be glued to). Call with the run's lock held.
 */
export async function tidyRunDir(runDir: string): Promise<TidiedRun> {
  const dirs = ['.', CHECKPOINT_DIR, BEST_CHECKPOINT_DIR, HISTORY_DIR];
  const history = await readdir(join(runDir, HISTORY_DIR)).catch(() => [] as string[]);
  dirs.push(...history.map((name) => join(HISTORY_DIR, name)));
  const tempFiles: string[] = [];
  for (const dir of dirs) tempFiles.push(...(await removeAbandonedTempFiles(join(runDir, dir))).map((name) => join(dir, name)));
  const metrics = metricsPath(runDir);
  const { size, tail } = await unfinishedTail(metrics);
  if (tail > 0) await truncate(metrics, size - tail);
  return { tempFiles, metricsBytesCut: tail };
}

/** The `step` of a metrics line, when it has one (start lines have none). */
function lineStep(line: string): number | undefined {
  if (!line.includes('"step":')) return undefined;
  try {
    const value = JSON.parse(line) as { step?: unknown };
    return typeof value.step === 'number' ? value.step : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Cuts a metrics log back to step `step`: from its first line past that step on, everything goes
 * (steps, epochs, checkpoints and the end of the run that logged them), so that a run resumed from a
 * checkpoint at `step` logs each later step once. Returns the number of lines cut.
 */
export async function rewindMetricsLog(path: string, step: number): Promise<number> {
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (!exists) return 0;
  let offset = 0;
  let cutAt: number | undefined;
  let cut = 0;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (cutAt === undefined && (lineStep(line) ?? -1) > step) cutAt = offset;
      if (cutAt !== undefined) cut++;
      offset += Buffer.byteLength(line) + 1;
    }
  } finally {
    lines.close();
  }
  if (cutAt !== undefined) await truncate(path, cutAt);
  return cut;
}
