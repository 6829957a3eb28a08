import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CLI_DIR = `${REPO}packages/cli`;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command in a child process and collects its output. */
export function spawnCollect(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, AUTODEEPLAB_LOG_INTERVAL_MS: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The CLI from its sources (tsx resolves the workspace packages to their sources through the cli
 * package's tsconfig paths), so no build is needed.
 */
export function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return spawnCollect(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: CLI_DIR, env });
}

/** The built bin, as an installed `autodeeplab` runs it. */
export function builtCli(args: string[]): Promise<CliRun> {
  return spawnCollect(process.execPath, [`${CLI_DIR}/dist/cli.js`, ...args], { cwd: REPO });
}

export const STACK_LINE = /\n\s+at /;
