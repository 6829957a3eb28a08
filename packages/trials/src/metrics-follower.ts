import { open, readFile, stat } from 'node:fs/promises';
import type { TrialProgress } from './job.js';

interface MetricsEvent {
  type?: string;
  epoch?: number;
  epochs?: number;
  step?: number;
  totalSteps?: number;
  mIoU?: number;
  resumedFrom?: { step?: number };
}

/** Folds one metrics.jsonl event into a trial's progress. */
export function foldProgress(progress: TrialProgress, event: MetricsEvent): TrialProgress {
  switch (event.type) {
    case 'start':
      return {
        ...progress,
        epochs: event.epochs ?? progress.epochs,
        totalSteps: event.totalSteps ?? progress.totalSteps,
        resumedFrom: event.resumedFrom?.step ?? null,
      };
    case 'step':
      return { ...progress, step: event.step ?? progress.step };
    case 'epoch':
      return { ...progress, epoch: (event.epoch ?? -1) + 1, step: event.step ?? progress.step };
    case 'validation': {
      if (typeof event.mIoU !== 'number') return progress;
      const history = [...progress.history];
      const at = event.epoch ?? history.length;
      while (history.length < at) history.push(null);
      history[at] = event.mIoU;
      return { ...progress, mIoU: event.mIoU, history };
    }
    default:
      return progress;
  }
}

export const EMPTY_PROGRESS: TrialProgress = { epoch: 0, epochs: 0, step: 0, totalSteps: 0, mIoU: null, history: [], resumedFrom: null };

/**
 * Reads a growing metrics.jsonl from where it left off. A file that shrank (a resume cuts the lines
 * past its checkpoint) is read again from the start.
 */
export class MetricsFollower {
  private offset = 0;
  private pending = '';
  progress: TrialProgress = EMPTY_PROGRESS;

  constructor(private readonly path: string) {}

  /** Reads what was appended; returns whether the progress changed. */
  async poll(): Promise<boolean> {
    const size = await stat(this.path).then(
      (s) => s.size,
      () => 0,
    );
    if (size < this.offset) {
      this.offset = 0;
      this.pending = '';
      this.progress = EMPTY_PROGRESS;
    }
    if (size === this.offset) return false;
    const file = await open(this.path, 'r');
    let text: string;
    try {
      const buffer = Buffer.alloc(size - this.offset);
      const { bytesRead } = await file.read(buffer, 0, buffer.length, this.offset);
      this.offset += bytesRead;
      text = this.pending + buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await file.close();
    }
    const lines = text.split('\n');
    // The last piece has no newline yet: a line still being written.
    this.pending = lines.pop() ?? '';
    const before = this.progress;
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        this.progress = foldProgress(this.progress, JSON.parse(line) as MetricsEvent);
      } catch {
        // A torn line is skipped; metrics.jsonl stays the record.
      }
    }
    return JSON.stringify(before) !== JSON.stringify(this.progress);
  }
}

/** Every metrics.jsonl event of a run directory's file, in order (empty when there is none). */
export async function readMetricsEvents(path: string): Promise<MetricsEvent[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const events: MetricsEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line) as MetricsEvent);
    } catch {
      // A torn last line (a killed writer) is not an event.
    }
  }
  return events;
}

export type { MetricsEvent };
