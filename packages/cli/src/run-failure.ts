import type { ReportedEvent } from './reporter.js';

/** File system errors that come from the machine (a full disk, a quota, a failing device) rather than from a bug. */
const ENVIRONMENT_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EIO']);

export function isEnvironmentFsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ENVIRONMENT_CODES.has(code);
}

/**
 * An error that stopped a run, with where the run stood: the step and the last good checkpoint, so
 * that the one error line says what was lost and how to continue.
 */
export class RunFailedAt extends Error {
  override readonly name = 'RunFailedAt';
  constructor(
    override readonly cause: unknown,
    readonly where: string,
  ) {
    super(`${cause instanceof Error ? cause.message : String(cause)}; ${where}`, { cause });
  }
}

/** Follows a run's events to know, when it fails, the step it reached and its last good checkpoint. */
export class RunPosition {
  private kind = 'search';
  private runDir = '';
  private step = 0;
  private checkpoint: string | undefined;

  see(event: ReportedEvent): void {
    const e = event as Partial<{
      kind: string;
      runDir: string;
      step: number;
      path: string;
      checkpoint: string;
      resumedFrom: { checkpoint: string; step: number };
    }>;
    if (event.type === 'start') {
      if (e.kind) this.kind = e.kind;
      if (e.runDir) this.runDir = e.runDir;
      if (e.resumedFrom) {
        this.checkpoint = e.resumedFrom.checkpoint;
        this.step = e.resumedFrom.step;
      }
    }
    if (typeof e.step === 'number') this.step = e.step;
    if (event.type === 'checkpoint' && e.path) this.checkpoint = e.path;
    if (event.type === 'error' && e.checkpoint) this.checkpoint = e.checkpoint;
  }

  /** A file system error of the machine, with the step and the checkpoint to continue from; other errors unchanged. */
  explain(error: unknown): unknown {
    if (!isEnvironmentFsError(error) || !this.runDir) return error;
    const code = (error as { code?: unknown }).code;
    const fix = code === 'ENOSPC' || code === 'EDQUOT' ? 'free some space' : 'fix that';
    const from = this.checkpoint
      ? `the last good checkpoint is ${this.checkpoint}; ${fix}, then continue with autodeeplab ${this.kind} --resume ${this.runDir}`
      : 'no checkpoint was written yet';
    return new RunFailedAt(error, `the run stopped at step ${this.step}; ${from}`);
  }
}
