/**
 * An error caused by the user's input (a file, a field, a flag), as opposed to a bug.
 * The CLI prints its message alone, without a stack trace, and exits with code 2.
 */
export class UserInputError extends Error {
  override readonly name = 'UserInputError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A problem with a saved file (checkpoint, genotype, config): names the file and what is wrong. */
export class FileFormatError extends UserInputError {
  constructor(
    readonly file: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options);
  }
}

export function isUserInputError(error: unknown): error is UserInputError {
  return error instanceof UserInputError;
}
