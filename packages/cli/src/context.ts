import * as tf from '@tensorflow/tfjs';
import { initBackend, type AdapterDescription, type BackendInfo, type WebGpuOptions } from '@autodeeplab/core';
import type { CliIo } from './io.js';
import type { CommonOptions } from './options.js';
import { Progress } from './progress.js';

/** What every command gets: where to write, and helpers shared by commands. */
export interface CommandContext {
  io: CliIo;
}

/** Informational lines for the user: on stderr, so that stdout carries only data. */
export function note(ctx: CommandContext, line: string): void {
  ctx.io.stderr.write(`${line}\n`);
}

export function verboseNote(ctx: CommandContext, options: CommonOptions, line: string): void {
  if (options.verbose) note(ctx, line);
}

export function createProgress(ctx: CommandContext): Progress {
  return new Progress({ stream: ctx.io.stderr, logIntervalMs: logIntervalMs(ctx) });
}

/** Milliseconds between plain progress lines: `AUTODEEPLAB_LOG_INTERVAL_MS`, else 10 s. */
export function logIntervalMs(ctx: CommandContext): number {
  const interval = Number(ctx.io.env.AUTODEEPLAB_LOG_INTERVAL_MS);
  return Number.isFinite(interval) && interval >= 0 ? interval : 10_000;
}

/**
 * Chooses the backend (`--backend`, else `AUTODEEPLAB_BACKEND`, else the fastest available), and keeps
 * TensorFlow.js's own console warnings out of the output unless `--verbose`.
 */
export async function setupBackend(ctx: CommandContext, options: CommonOptions): Promise<BackendInfo> {
  if (!options.verbose) tf.env().set('PROD', true);
  const backend = options.backend && options.backend !== 'auto' ? options.backend : undefined;
  const info = await initBackend({ backend, env: ctx.io.env, webgpu: webGpuOptions(options) });
  verboseNote(
    ctx,
    options,
    `backend: ${info.name} (${info.provider})${info.adapter ? ` on ${describeAdapter(info.adapter)}` : ''}${info.skipped.length ? `; skipped ${info.skipped.map((s) => `${s.candidate}: ${s.reason}`).join('; ')}` : ''}`,
  );
  return info;
}

/** The WebGPU choices given on the command line (the environment fills the rest). */
export function webGpuOptions(options: CommonOptions): WebGpuOptions {
  return { dawnBackend: options.dawnBackend, adapter: options.webgpuAdapter };
}

/** One line: the adapter's name, vendor and architecture, Dawn's backend, and whether it is a GPU. */
export function describeAdapter(adapter: AdapterDescription): string {
  const name = adapter.device || adapter.description || 'unnamed adapter';
  const vendor = [adapter.vendor, adapter.architecture].filter(Boolean).join(' ');
  return `${name}${vendor ? ` (${vendor})` : ''} via ${adapter.dawnBackend}, ${adapter.featureLevel} feature level, ${adapter.software ? 'software rasteriser' : 'hardware'}`;
}
