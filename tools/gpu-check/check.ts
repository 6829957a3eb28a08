/**
 * The GPU machine check (see README.md): the WebGPU adapter, gradient checks of the network's ops on
 * webgpu against cpu, the search step and the S training step at the paper's sizes, then the PyTorch
 * reference's search step on CUDA at the same sizes. Each timed part runs in a child process within
 * its time budget; a size the budget cannot hold is skipped and said so. Prints a summary and writes
 * $OUT/gpu-check.json (and each child's JSON beside it).
 *
 * Settings (flag `--name value`, or env `GPU_CHECK_NAME`, e.g. --search-sizes / GPU_CHECK_SEARCH_SIZES):
 *   adapter hardware | software | any (hardware); dawn-backend (vulkan for hardware, else Dawn's order);
 *   search-sizes 129,321,513; search-layers 12; train-size 769; train-batch 2; repeats 2;
 *   search-budget-s 200; train-budget-s 100; torch-budget-s 120; torch 1 (0 skips it); torch-device cuda.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, parseAdapterKind, parseDawnBackend, type BackendInfo } from '@autodeeplab/core';
import { parseArgs } from '../bench/common.ts';
import { parseResultJson, runChild, secondsLeft, type ChildResult } from './children.ts';
import { GRADIENT_TOLERANCE, checkGradients, type GradientCheck } from './gradients.ts';
import { formatSummary, type Measurement } from './summary.ts';

const args = parseArgs(process.argv.slice(2));
const setting = (name: string, fallback: string): string => {
  const value = args[name] ?? process.env[`GPU_CHECK_${name.toUpperCase().replaceAll('-', '_')}`];
  return value === undefined || value === true || value === '' ? fallback : value;
};
const numbers = (name: string, fallback: string) => setting(name, fallback).split(',').map(Number);

const OUT = resolve(process.env.OUT || 'gpu-check-out');
const HERE = dirname(fileURLToPath(import.meta.url));
/** Bundled (prepare.sh): the benchmarks are .mjs files beside this one; from source: run with tsx. */
const BUNDLED = import.meta.url.endsWith('.mjs');

const adapterKind = parseAdapterKind(setting('adapter', 'hardware'), 'GPU_CHECK_ADAPTER');
const dawnSetting = setting('dawn-backend', adapterKind === 'hardware' ? 'vulkan' : '');
const dawnBackend = dawnSetting ? parseDawnBackend(dawnSetting, 'GPU_CHECK_DAWN_BACKEND') : undefined;
const webgpuFlags = ['--backend', 'webgpu', '--webgpu-adapter', adapterKind, ...(dawnBackend ? ['--dawn-backend', dawnBackend] : [])];
const repeats = setting('repeats', '2');

function benchCommand(name: string): [string, string[]] {
  if (BUNDLED) return [process.execPath, [join(HERE, `${name}.mjs`)]];
  return [process.execPath, ['--import', 'tsx', join(HERE, '..', 'bench', `${name}.ts`)]];
}

function writeJson(name: string, data: unknown): void {
  writeFileSync(join(OUT, name), JSON.stringify(data, null, 2) + '\n');
}

/** Runs `runs` in order within `budgetS`; once the budget is spent the rest are skipped. */
async function withinBudget(
  phase: string,
  budgetS: number,
  runs: { label: string; command: [string, string[]]; file: string }[],
  resultOf: (json: Record<string, unknown>) => Partial<Measurement>,
): Promise<Measurement[]> {
  const start = performance.now();
  const results: Measurement[] = [];
  for (const run of runs) {
    const left = secondsLeft(budgetS, start);
    if (left < 5) {
      results.push({ phase, label: run.label, status: `skipped: the ${budgetS} s budget of ${phase} is spent` });
      continue;
    }
    process.stderr.write(`\n== ${phase} ${run.label} (${left.toFixed(0)} s of budget left)\n`);
    const child: ChildResult = await runChild(run.command[0], run.command[1], left);
    const json = parseResultJson(child.stdout);
    if (json) writeJson(run.file, json);
    const status = child.timedOut
      ? `killed after ${child.seconds.toFixed(0)} s: the ${budgetS} s budget of ${phase} is spent`
      : child.code === 0 && json
        ? 'ok'
        : `failed (exit ${child.code}): ${child.stderrTail.split('\n').at(-1) ?? ''}`;
    results.push({ phase, label: run.label, status, wallS: child.seconds, ...(json ? resultOf(json) : {}) });
  }
  return results;
}

async function webgpuPart(): Promise<{ backend?: BackendInfo; error?: string; gradients: GradientCheck[] }> {
  try {
    const backend = await initBackend({ backend: 'webgpu', webgpu: { adapter: adapterKind, ...(dawnBackend ? { dawnBackend } : {}) } });
    process.stderr.write(`WebGPU adapter: ${JSON.stringify(backend.adapter)}\n`);
    const gradients = await checkGradients(tf.getBackend());
    return { backend, gradients };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error), gradients: [] };
  }
}

function torchRuns(sizes: number[]): { runs: Parameters<typeof withinBudget>[2]; problem?: string } {
  const anchor = ['shared/anchors/torch_supernet_step.py', 'tools/gpu-check/anchor/torch_supernet_step.py'].find((p) => existsSync(p));
  // prepare.sh copies the reference to gpu-check-bundle/ref (this file sits in gpu-check-bundle/node_modules/autodeeplab-gpu-check).
  const ref = process.env.AUTODEEPLAB_REF || join(HERE, '..', '..', 'ref');
  if (!anchor) return { runs: [], problem: 'the anchor script is not here (run from the repository root)' };
  if (!existsSync(join(ref, 'auto_deeplab.py')))
    return { runs: [], problem: `no reference work tree at ${ref} (prepare.sh copies it when AUTODEEPLAB_REF is set)` };
  const device = setting('torch-device', 'cuda');
  return {
    runs: sizes.map((size) => ({
      label: `${size}×${size} batch 2 (${device})`,
      file: `torch-search-${size}.json`,
      command: [
        'python3',
        [anchor, '--ref', ref, '--crop', String(size), '--batch', '2', '--phases', 'c', '--warmup', '1', '--iters', repeats, '--device', device, '--quiet'],
      ],
    })),
  };
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const searchSizes = numbers('search-sizes', '129,321,513');
  const layers = setting('search-layers', '12');
  const trainSize = setting('train-size', '769');
  const trainBatch = setting('train-batch', '2');

  const gpu = await webgpuPart();
  let measurements: Measurement[] = [];
  if (gpu.backend) {
    const search = benchCommand('search-step');
    measurements = await withinBudget(
      'search step (webgpu)',
      Number(setting('search-budget-s', '200')),
      searchSizes.map((size) => ({
        label: `${size}×${size} batch 2, L=${layers}`,
        file: `search-step-${size}.json`,
        command: [
          search[0],
          [...search[1], ...webgpuFlags, '--sizes', String(size), '--layers', layers, '--plain-layers', '0', '--warmup', '1', '--repeats', repeats],
        ],
      })),
      (json) => {
        const row = (json.rows as { iterations?: Record<string, number>[] }[] | undefined)?.[0]?.iterations?.[0];
        return { seconds: row?.iterationS, launches: row?.launches, gpuPeakBytes: row?.peakGpuBytes, launchCostUs: json.launchCostUs as number };
      },
    );
    const train = benchCommand('train-step');
    measurements.push(
      ...(await withinBudget(
        'training step S (webgpu)',
        Number(setting('train-budget-s', '100')),
        [
          {
            label: `${trainSize}×${trainSize} batch ${trainBatch}`,
            file: 'train-step.json',
            command: [train[0], [...train[1], ...webgpuFlags, '--size', trainSize, '--batch', trainBatch, '--warmup', '1', '--repeats', repeats]],
          },
        ],
        (json) => {
          const row = (json.rows as { stepS?: number; launches?: number; peakGpuBytes?: number; error?: string }[] | undefined)?.[0];
          return {
            seconds: row?.stepS,
            launches: row?.launches,
            gpuPeakBytes: row?.peakGpuBytes,
            launchCostUs: json.launchCostUs as number,
            error: row?.error,
          };
        },
      )),
    );
  }
  const torch = setting('torch', '1') === '1' ? torchRuns(searchSizes) : { runs: [], problem: 'skipped (torch 0)' };
  if (torch.problem) measurements.push({ phase: 'search step (PyTorch reference)', label: '-', status: torch.problem });
  measurements.push(
    ...(await withinBudget('search step (PyTorch reference)', Number(setting('torch-budget-s', '120')), torch.runs, (json) => {
      const timing = (json.timings as Record<string, { median_s?: number }> | undefined)?.c_bilevel_first_order_iteration;
      return { seconds: timing?.median_s, error: json.error as string | undefined };
    })),
  );

  const report = {
    adapter: gpu.backend?.adapter ?? null,
    backendError: gpu.error ?? null,
    gradientTolerance: GRADIENT_TOLERANCE,
    gradients: gpu.gradients,
    measurements,
    settings: { adapterKind, dawnBackend: dawnBackend ?? null, searchSizes, layers, trainSize, trainBatch, repeats },
    node: process.version,
    date: new Date().toISOString(),
  };
  writeJson('gpu-check.json', report);
  process.stdout.write(`${formatSummary(report)}\nresults in ${OUT}\n`);
}

await main();
