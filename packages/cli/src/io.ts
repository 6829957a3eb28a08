/**
 * Where the CLI writes. Commands never touch `process.stdout` directly, so that tests can run the
 * whole CLI in-process and capture what it prints.
 */
export interface OutputStream {
  write(chunk: string): unknown;
  /** True for a terminal: progress bars are drawn only there. */
  isTTY?: boolean;
  /** Terminal width, when known. */
  columns?: number;
}

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Record<string, string | undefined>;
  cwd: string;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** An in-memory stream, for tests and for capturing output. */
export class BufferStream implements OutputStream {
  text = '';
  constructor(
    readonly isTTY = false,
    readonly columns = 100,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** Writes a value as pretty JSON followed by a newline (the `--json` output of every command). */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(io: CliIo, line = ''): void {
  io.stdout.write(`${line}\n`);
}
