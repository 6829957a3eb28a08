/**
 * A small harness shared by the benchmarks: timing with warm-up and repeats, medians, machine
 * information, argument parsing, a plain-text table, and JSON results written to
 * bench-results/<name>.json (and to stdout).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RESULTS_DIR = join(REPO_ROOT, 'bench-results');

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  date: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${platform()} ${release()}`,
    node: process.version,
    date: new Date().toISOString(),
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface TimingOptions {
  /** Untimed runs first (JIT, caches, lazily created operators). Default 2. */
  warmup?: number;
  /** Timed runs. Default 10. */
  repeats?: number;
}

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  samplesMs: number[];
}

/** Times `fn` (which must finish its work before returning or resolving) `repeats` times after `warmup` runs. */
export async function timeIt(fn: () => unknown, options: TimingOptions = {}): Promise<Timing> {
  const warmup = options.warmup ?? 2;
  const repeats = Math.max(1, options.repeats ?? 10);
  for (let i = 0; i < warmup; i++) await fn();
  const samplesMs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    samplesMs.push(performance.now() - start);
  }
  return { medianMs: median(samplesMs), minMs: Math.min(...samplesMs), maxMs: Math.max(...samplesMs), samplesMs };
}

/** `--name value`, `--name=value` and bare `--flag` (true). */
export function parseArgs(argv: readonly string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}' (options look like --name value)`);
    const eq = arg.indexOf('=');
    if (eq > 0) {
      out[arg.slice(2, eq)] = arg.slice(eq + 1);
    } else if (i + 1 < argv.length && !(argv[i + 1] as string).startsWith('--')) {
      out[arg.slice(2)] = argv[++i] as string;
    } else {
      out[arg.slice(2)] = true;
    }
  }
  return out;
}

export function intArg(args: Record<string, string | true>, name: string, fallback: number): number {
  const v = args[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v === true || !Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a non-negative integer, found '${String(v)}'`);
  return n;
}

/** A left-aligned first column and right-aligned other columns. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Writes `{ name, machine, ...data }` to bench-results/<name>.json and prints it to stdout; returns the path. */
export function writeResults(name: string, data: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.json`);
  const json = JSON.stringify({ name, machine: machineInfo(), ...data }, null, 2);
  writeFileSync(path, json + '\n');
  process.stdout.write(json + '\n');
  return path;
}
