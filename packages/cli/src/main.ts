import { CommanderError } from 'commander';
import { UserInputError } from '@autodeeplab/core';
import { EXIT_OK, EXIT_USAGE, RunStoppedBySignal, STOP_SIGNALS, formatError } from './errors.js';
import { processIo, type CliIo } from './io.js';
import { buildProgram } from './program.js';

/**
 * Runs the CLI on `argv` (the arguments after the program name) and returns the exit code: 0 success,
 * 1 failure, 2 invalid input. Never throws and never calls `process.exit`, so that tests can run it
 * in-process.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  const program = buildProgram({ io });
  // Commander prints the errors of parsing itself; one thrown inside a command's action it does not.
  let inAction = false;
  program.hook('preAction', () => {
    inAction = true;
  });
  try {
    if (argv.length === 0) {
      io.stderr.write(program.helpInformation());
      return EXIT_USAGE;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    // The run has printed where it stopped and how to continue.
    if (error instanceof RunStoppedBySignal) return STOP_SIGNALS[error.signalName];
    if (error instanceof CommanderError && !inAction) {
      // Commander has already printed its message (an unknown flag, a missing argument, help).
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof CommanderError) {
      io.stderr.write(formatError(new UserInputError(error.message, { cause: error }), verbose).text);
      return EXIT_USAGE;
    }
    const { code, text } = formatError(error, verbose);
    io.stderr.write(text);
    return code;
  }
}
