import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { BACKEND_NAMES, initBackend, type AdapterDescription, type BackendName, type BackendCandidateResult } from '@autodeeplab/core';
import type { Command } from 'commander';
import { describeAdapter, webGpuOptions, type CommandContext } from '../context.js';
import { formatBytes, formatTable } from '../format.js';
import { printJson, printLine } from '../io.js';
import { addCommonOptions, examples, type CommonOptions } from '../options.js';
import { CLI_VERSION } from '../version.js';
import { installedVersion } from '../versions.js';

const PACKAGES = [
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
  'webgpu',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@autodeeplab/kernels',
  '@autodeeplab/core',
  '@autodeeplab/genotype',
  '@autodeeplab/ops',
  '@autodeeplab/search-space',
  '@autodeeplab/heads',
  '@autodeeplab/decode',
  '@autodeeplab/model',
  '@autodeeplab/datasets',
  '@autodeeplab/optim',
];

export interface BackendReport {
  backend: BackendName;
  available: boolean;
  provider?: string;
  gpu?: boolean;
  /** The WebGPU adapter (webgpu). */
  adapter?: AdapterDescription;
  /** Why it cannot be used, or which providers were skipped before the one that works. */
  reason?: string;
}

export interface DoctorReport {
  cli: string;
  node: string;
  platform: string;
  /** The backend commands will use with the same `--backend` / `AUTODEEPLAB_BACKEND`. */
  selected: { backend: BackendName; provider: string; skipped: BackendCandidateResult[] } | { error: string };
  backends: BackendReport[];
  versions: Record<string, string | null>;
  threads: { cpus: number; availableParallelism: number; wasmThreads: number | null; wasmSimd: boolean | null; uvThreadpool: string | null };
  memory: { total: number; free: number; processRss: number; heapLimit: number | null };
}

async function probe(name: BackendName, env: Record<string, string | undefined>, options: CommonOptions): Promise<BackendReport> {
  try {
    const info = await initBackend({ backend: name, env, webgpu: webGpuOptions(options) });
    const skipped = info.skipped.map((s) => `${s.candidate}: ${s.reason}`).join('; ');
    return {
      backend: name,
      available: true,
      provider: info.provider,
      gpu: info.gpu,
      ...(info.adapter ? { adapter: info.adapter } : {}),
      ...(skipped ? { reason: `skipped ${skipped}` } : {}),
    };
  } catch (error) {
    // initBackend says "backend 'x' is not available (<candidate>: <reason>; …). <hint>": keep the reasons.
    const message = (error as Error).message;
    const reasons = /not available \((.*)\)\./.exec(message)?.[1];
    return { backend: name, available: false, reason: reasons ?? message };
  }
}

/** SIMD and threading of the wasm backend, from the flags it registers when loaded (core loads it). */
async function wasmDetails(): Promise<{ threads: number | null; simd: boolean | null }> {
  const flag = async (name: string): Promise<boolean | null> => {
    try {
      return Boolean(await tf.env().getAsync(name));
    } catch {
      return null;
    }
  };
  const simd = await flag('WASM_HAS_SIMD_SUPPORT');
  const multithread = await flag('WASM_HAS_MULTITHREAD_SUPPORT');
  // The threaded wasm build needs Web Workers; under Node the backend runs one thread.
  return { threads: multithread === null ? null : multithread && typeof (globalThis as { Worker?: unknown }).Worker === 'function' ? null : 1, simd };
}

export async function doctorReport(ctx: CommandContext, options: CommonOptions): Promise<DoctorReport> {
  if (!options.verbose) tf.env().set('PROD', true);
  const env = ctx.io.env;
  const backends: BackendReport[] = [];
  for (const name of BACKEND_NAMES) backends.push(await probe(name, env, options));
  let selected: DoctorReport['selected'];
  try {
    const requested = options.backend && options.backend !== 'auto' ? options.backend : undefined;
    const info = await initBackend({ backend: requested, env, webgpu: webGpuOptions(options) });
    selected = { backend: info.name, provider: info.provider, skipped: info.skipped };
  } catch (error) {
    selected = { error: (error as Error).message };
  }
  const wasm = await wasmDetails();
  const versions: Record<string, string | null> = {};
  for (const name of PACKAGES) versions[name] = installedVersion(name) ?? null;
  const v8 = await import('node:v8');
  return {
    cli: CLI_VERSION,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    selected,
    backends,
    versions,
    threads: {
      cpus: os.cpus().length,
      availableParallelism: os.availableParallelism(),
      wasmThreads: wasm.threads,
      wasmSimd: wasm.simd,
      uvThreadpool: env.UV_THREADPOOL_SIZE ?? null,
    },
    memory: {
      total: os.totalmem(),
      free: os.freemem(),
      processRss: process.memoryUsage().rss,
      heapLimit: v8.getHeapStatistics().heap_size_limit ?? null,
    },
  };
}

/** The adapter of webgpu; for tfjs-node-gpu whether its libtensorflow found a GPU. */
function providerNote(b: BackendReport): string {
  if (b.adapter) return ` on ${describeAdapter(b.adapter)}`;
  if (b.provider === '@tensorflow/tfjs-node-gpu') return b.gpu ? ' (on the GPU)' : ' (GPU build running on the CPU: CUDA 11.2 and cuDNN 8.1 not found)';
  return '';
}

function printReport(ctx: CommandContext, report: DoctorReport): void {
  const out = (line = '') => printLine(ctx.io, line);
  out(`autodeeplab ${report.cli} on Node ${report.node} (${report.platform})`);
  out();
  out('Backends:');
  out(
    formatTable([
      ['backend', 'status', 'provider / reason'],
      ...report.backends.map((b) => [
        b.backend,
        b.available ? 'available' : 'unavailable',
        b.available ? `${b.provider}${providerNote(b)}${b.reason ? ` — ${b.reason}` : ''}` : (b.reason ?? ''),
      ]),
    ]).trimEnd(),
  );
  out();
  out(
    'selected' in report.selected && 'error' in report.selected
      ? `Selected backend: none (${report.selected.error})`
      : `Selected backend: ${(report.selected as { backend: string }).backend} (${(report.selected as { provider: string }).provider})`,
  );
  out();
  out('Versions:');
  for (const [name, version] of Object.entries(report.versions)) out(`  ${name.padEnd(32)} ${version ?? 'not installed'}`);
  out();
  const t = report.threads;
  out(
    `Threads: ${t.cpus} CPUs (${t.availableParallelism} available); ` +
      `wasm: ${t.wasmThreads ?? 1} thread${(t.wasmThreads ?? 1) === 1 ? '' : 's'}, SIMD ${t.wasmSimd === null ? 'unknown' : t.wasmSimd ? 'yes' : 'no'}; ` +
      `UV_THREADPOOL_SIZE ${t.uvThreadpool ?? 'default (4)'}`,
  );
  const m = report.memory;
  out(
    `Memory: ${formatBytes(m.free)} free of ${formatBytes(m.total)}; this process ${formatBytes(m.processRss)}; ` +
      `JS heap limit ${m.heapLimit === null ? '?' : formatBytes(m.heapLimit)}`,
  );
  const hints: string[] = [];
  const webgpu = report.backends.find((b) => b.backend === 'webgpu');
  const noGpu = 'skipped' in report.selected ? report.selected.skipped.find((s) => s.candidate.startsWith('webgpu')) : undefined;
  if (noGpu && (!webgpu?.available || webgpu.adapter?.software)) {
    hints.push(
      `No GPU for WebGPU (${noGpu.reason})${webgpu?.available ? ' A software rasteriser works with --backend webgpu, but wasm is faster on a CPU.' : ''}`,
    );
  }
  if (!report.backends.find((b) => b.backend === 'tensorflow')?.available) {
    hints.push(
      'For native CPU speed install @tensorflow/tfjs-node; it downloads libtensorflow at install time. ' +
        '@tensorflow/tfjs-node-gpu also needs CUDA 11.2 and cuDNN 8.1, which current drivers do not ship: on a GPU use webgpu.',
    );
  }
  if (hints.length) {
    out();
    for (const hint of hints) out(`Hint: ${hint}`);
  }
}

export function registerDoctor(program: Command, ctx: CommandContext): void {
  const command = program
    .command('doctor')
    .description('show which backends are available and why others are not, versions, threads and memory')
    .addHelpText('after', examples(['autodeeplab doctor', 'autodeeplab doctor --json', 'AUTODEEPLAB_BACKEND=cpu autodeeplab doctor']));
  addCommonOptions(command).action(async (options: CommonOptions) => {
    const report = await doctorReport(ctx, options);
    if (options.json) printJson(ctx.io, report);
    else printReport(ctx, report);
  });
}
