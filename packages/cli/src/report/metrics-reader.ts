import { readFile } from 'node:fs/promises';
import { UserInputError } from '@autodeeplab/core';
import type { RunEvent } from '@autodeeplab/optim';

export interface MetricsFile {
  events: RunEvent[];
  /** True when the last line was cut short (a run still writing it, or killed mid-write); it is left out. */
  partialLastLine: boolean;
}

/** metrics.jsonl writes a non-finite number as its string ('NaN', 'Infinity'); read those back as numbers. */
function reviveNumber(_key: string, value: unknown): unknown {
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  return value;
}

function isEvent(value: unknown): value is RunEvent {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/**
 * The events of a run's metrics.jsonl, as the file is now: a run may be appending to it, so a last
 * line without its newline that does not parse is left out. Any other line that is not an event is
 * the file's fault, named with its line number.
 */
export async function readMetricsFile(path: string): Promise<MetricsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UserInputError(
        `${path} not found: expected the run directory of an autodeeplab search or train (it writes metrics.jsonl), or a trials store (<store>/<trial-id>/metrics.jsonl)`,
      );
    }
    throw error;
  }
  const lines = text.split('\n');
  const complete = text.endsWith('\n');
  // The piece after the last newline is '' for a whole file, else a line still being written.
  const tail = lines.pop() ?? '';
  const events: RunEvent[] = [];
  let partialLastLine = false;
  const parse = (line: string, index: number, isTail: boolean): void => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line, reviveNumber);
    } catch (error) {
      if (isTail) {
        partialLastLine = true;
        return;
      }
      throw new UserInputError(`${path}:${index + 1}: not valid JSON (${(error as Error).message}); expected one run event per line`);
    }
    if (!isEvent(value)) throw new UserInputError(`${path}:${index + 1}: expected a run event (an object with a 'type'), found ${line.slice(0, 60)}`);
    events.push(value);
  };
  lines.forEach((line, index) => parse(line, index, false));
  if (!complete) parse(tail, lines.length, true);
  if (!events.some((e) => e.type === 'start')) {
    throw new UserInputError(`${path} has no 'start' event yet: expected the metrics of an autodeeplab search or train`);
  }
  return { events, partialLastLine };
}
