import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { logIntervalMs, note, type CommandContext } from './context.js';
import type { OutputStream } from './io.js';
import { Progress } from './progress.js';

/** The plain-text log every search and training writes in its run directory. */
export const RUN_LOG_FILE = 'log.txt';

// eslint-disable-next-line no-control-regex -- removing terminal escape sequences is the point
const ANSI_SEQUENCE = /\x1b\[[0-9;?]*[A-Za-z]|\r/g;

/**
 * A stream appending to a file, a write at a time straight to the kernel (no buffer in this process),
 * so a kill loses at most the line being written, and without terminal escape codes. The log helps
 * but is not the run: when it cannot be written (a full disk) it stops, with one warning.
 */
export class RunLogFile implements OutputStream {
  readonly isTTY = false;
  private fd: number | undefined;

  constructor(
    readonly path: string,
    private readonly warn: (line: string) => void,
  ) {
    this.fd = this.attempt(() => openSync(path, 'a'));
  }

  write(chunk: string): boolean {
    const fd = this.fd;
    if (fd === undefined) return false;
    const text = chunk.replace(ANSI_SEQUENCE, '');
    return this.attempt(() => writeSync(fd, text)) !== undefined;
  }

  close(): void {
    this.closeQuietly();
  }

  private closeQuietly(): void {
    try {
      if (this.fd !== undefined) closeSync(this.fd);
    } catch {
      // Closing a log that failed: nothing more to lose.
    }
    this.fd = undefined;
  }

  private attempt<T>(action: () => T): T | undefined {
    try {
      return action();
    } catch (error) {
      this.closeQuietly();
      this.warn(`warning: ${this.path}: cannot write the run log (${(error as Error).message}); the run goes on without it`);
      return undefined;
    }
  }
}

/**
 * Opens `<runDir>/log.txt` (appended to: a resumed run continues it) and shows there, as plain lines
 * at the logging interval, everything `progress` shows.
 */
export function startRunLog(ctx: CommandContext, progress: Progress, runDir: string): RunLogFile {
  const log = new RunLogFile(join(runDir, RUN_LOG_FILE), (line) => note(ctx, line));
  log.write(`--- ${new Date().toISOString()} autodeeplab (pid ${process.pid}) ---\n`);
  progress.addCopy(new Progress({ stream: log, tty: false, logIntervalMs: logIntervalMs(ctx) }));
  return log;
}
