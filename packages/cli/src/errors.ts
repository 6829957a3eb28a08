import { UserInputError } from '@autodeeplab/core';
import { printable, printableBytes } from './format.js';
import { RunFailedAt } from './run-failure.js';

/** Exit codes: 0 success, 1 failure (a bug or an environment problem), 2 a problem with the user's input. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The signals that stop a run at its next step with a checkpoint, and the exit code each gives (128 + its number). */
export const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;

/**
 * Thrown after an interrupted run has written its checkpoint and printed its summary: the process
 * then exits with the signal's code, so that `autodeeplab search … && autodeeplab decode …` stops.
 */
export class RunStoppedBySignal extends Error {
  constructor(readonly signalName: StopSignal) {
    super(`stopped by ${signalName}`);
    this.name = 'RunStoppedBySignal';
  }
}

/**
 * A command that needs a part of the project that is not built yet (a package that does not export
 * what the command needs). It is reported like a user error (exit 2), never silently skipped.
 */
export class NotAvailableError extends UserInputError {
  constructor(feature: string, missing: string) {
    super(`${feature} is not available yet: ${missing}`);
  }
}

interface ZodLikeError {
  name: string;
  issues: { path: PropertyKey[]; message: string }[];
}

function isZodError(error: unknown): error is ZodLikeError {
  return (
    typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'ZodError' && Array.isArray((error as { issues?: unknown }).issues)
  );
}

function isUserError(error: unknown): boolean {
  if (error instanceof UserInputError) return true;
  // Another copy of core (the built bin next to sources) has its own class: trust the name.
  if (error instanceof Error && (error.name === 'UserInputError' || error.name === 'FileFormatError')) return true;
  return false;
}

const FS_USER_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES']);

/**
 * File system errors, in words. A full disk or quota (or a failing device) is the machine's, exit 1:
 * the same command works once there is room. A read-only place or a denied one is the user's choice
 * of path, exit 2, as for a run directory that cannot be made.
 */
const FS_PROBLEMS: Record<string, { what: string; code: typeof EXIT_FAILURE | typeof EXIT_USAGE }> = {
  ENOENT: { what: 'no such file or directory', code: EXIT_USAGE },
  EACCES: { what: 'permission denied', code: EXIT_USAGE },
  EPERM: { what: 'operation not permitted', code: EXIT_USAGE },
  EROFS: { what: 'the file system is read-only', code: EXIT_USAGE },
  ENOSPC: { what: 'no space left on the device (ENOSPC)', code: EXIT_FAILURE },
  EDQUOT: { what: 'the disk quota is exhausted (EDQUOT)', code: EXIT_FAILURE },
  EIO: { what: 'input/output error on the device (EIO)', code: EXIT_FAILURE },
};

/** The error's file system code and path, when it has them. */
function fsDetails(error: unknown): { fsCode?: string; path?: string } {
  const { code, path } = (error ?? {}) as { code?: unknown; path?: unknown };
  const named = typeof path === 'string' ? printable(path) : path instanceof Uint8Array ? printableBytes(path) : undefined;
  return { ...(typeof code === 'string' ? { fsCode: code } : {}), ...(named !== undefined ? { path: named } : {}) };
}

export interface ClassifiedError {
  code: typeof EXIT_FAILURE | typeof EXIT_USAGE;
  message: string;
}

/**
 * Decides whether an error is the user's (exit 2) or ours (exit 1), and words it in one line.
 * Validation errors thrown raw by zod and missing files are the user's too.
 */
export function classifyError(error: unknown): ClassifiedError {
  if (isUserError(error)) return { code: EXIT_USAGE, message: (error as Error).message };
  if (isZodError(error)) {
    const problems = error.issues
      .slice(0, 8)
      .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    return { code: EXIT_USAGE, message: `invalid input: ${problems}` };
  }
  if (error instanceof RunFailedAt) {
    const inner = classifyError(error.cause);
    return { code: inner.code, message: `${inner.message}; ${error.where}` };
  }
  const { fsCode, path } = fsDetails(error);
  const problem = fsCode ? FS_PROBLEMS[fsCode] : undefined;
  if (problem && path) return { code: problem.code, message: `${path}: ${problem.what}` };
  if (fsCode && FS_USER_CODES.has(fsCode)) return { code: EXIT_USAGE, message: path ? `${path}: ${(error as Error).message}` : (error as Error).message };
  if (problem) return { code: problem.code, message: `${problem.what}: ${(error as Error).message}` };
  if (error instanceof Error) return { code: EXIT_FAILURE, message: error.message || error.name };
  return { code: EXIT_FAILURE, message: String(error) };
}

/** The text printed for an error: one line, plus the stack (and causes) with `--verbose`. */
export function formatError(error: unknown, verbose: boolean): { code: number; text: string } {
  const { code, message } = classifyError(error);
  const prefix = code === EXIT_USAGE ? 'error' : 'failed';
  let text = `autodeeplab: ${prefix}: ${message}\n`;
  if (verbose) {
    let current: unknown = error;
    let depth = 0;
    while (current instanceof Error && depth < 5) {
      text += `${depth === 0 ? '' : 'caused by: '}${current.stack ?? current.message}\n`;
      current = current.cause;
      depth++;
    }
  } else if (code === EXIT_FAILURE) {
    text += 'Run again with --verbose for the stack trace.\n';
  }
  return { code, text };
}
