import { BufferStream, type CliIo } from './io.js';
import { runCli } from './main.js';

/** Runs the CLI in-process with captured output (for tests). */
export async function runCaptured(argv: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new BufferStream(false);
  const stderr = new BufferStream(false);
  const io: CliIo = { stdout, stderr, env: { ...env }, cwd: process.cwd() };
  const code = await runCli(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}
