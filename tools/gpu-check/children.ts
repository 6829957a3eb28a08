/**
 * Each measurement runs in a child process under a deadline: a size that takes too long (or hangs
 * the GPU) is killed and reported, and the next measurement still gets its turn. The child's stderr
 * (its progress) is passed through; its stdout is kept (the benchmarks print their JSON there).
 */
import { spawn } from 'node:child_process';

export interface ChildResult {
  /** Exit code; null when killed. */
  code: number | null;
  timedOut: boolean;
  seconds: number;
  stdout: string;
  /** The last lines of stderr, for the report when the child failed. */
  stderrTail: string;
}

export function runChild(command: string, args: readonly string[], timeoutS: number, env: NodeJS.ProcessEnv = process.env): Promise<ChildResult> {
  return new Promise((resolve) => {
    const start = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const timer = setTimeout(
      () => {
        timedOut = true;
        child.kill('SIGKILL');
      },
      Math.max(1, timeoutS) * 1000,
    );
    const finish = (code: number | null) => {
      clearTimeout(timer);
      const stderrTail = stderr.split('\n').filter(Boolean).slice(-6).join('\n');
      resolve({ code, timedOut, seconds: (performance.now() - start) / 1000, stdout, stderrTail });
    };
    child.on('error', (error) => {
      stderr += `\n${error.message}`;
      finish(null);
    });
    child.on('close', (code) => finish(code));
  });
}

/** The JSON object a benchmark printed last on stdout (writeResults), if any. */
export function parseResultJson(stdout: string): Record<string, unknown> | undefined {
  const start = stdout.lastIndexOf('\n{\n') >= 0 ? stdout.lastIndexOf('\n{\n') + 1 : stdout.indexOf('{');
  if (start < 0) return undefined;
  try {
    return JSON.parse(stdout.slice(start)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Seconds left of a budget that started at `startMs` (performance.now()). */
export function secondsLeft(budgetS: number, startMs: number): number {
  return budgetS - (performance.now() - startMs) / 1000;
}
