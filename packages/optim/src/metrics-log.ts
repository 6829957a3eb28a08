import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FileWriteError } from '@autodeeplab/core';
import { metricsPath } from './run-dir.js';

/**
 * Appends one JSON line with a single write (O_APPEND), so a kill leaves whole lines behind. A
 * failed write (a full disk) names the file.
 */
export async function appendJsonLine(path: string, value: unknown): Promise<void> {
  const line = `${JSON.stringify(value, (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))}\n`;
  try {
    await appendFile(path, line);
  } catch (error) {
    throw new FileWriteError(path, error);
  }
}

/** Passes events through unchanged while writing each one as a line of `path`. */
export async function* logEvents<E>(events: AsyncIterable<E>, path: string): AsyncGenerator<E, void, undefined> {
  await mkdir(dirname(path), { recursive: true });
  for await (const event of events) {
    await appendJsonLine(path, event);
    yield event;
  }
}

/** A run's events, also written to `<runDir>/metrics.jsonl` unless `metricsLog` is false. */
export function withMetricsLog<E>(events: AsyncIterable<E>, options: { runDir: string; metricsLog?: boolean }): AsyncIterable<E> {
  return options.metricsLog === false ? events : logEvents(events, metricsPath(options.runDir));
}
