import { UserInputError } from '@autodeeplab/core';

/** File system errors that mean the output path cannot be written (a full disk is the machine's, not these). */
// EEXIST: a file where a folder of the path should be.
const UNWRITABLE = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EEXIST', 'EACCES', 'EPERM', 'EROFS']);

/** An error writing `--out` as the user's: one line naming the path and the reason; any other error unchanged. */
export function asOutputError(error: unknown, out: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNWRITABLE.has(code) ? new UserInputError(`--out: cannot write ${out} (${code})`, { cause: error }) : error;
}
