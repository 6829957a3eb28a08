import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserInputError } from '@autodeeplab/core';
import type { TrialStatus } from '@autodeeplab/trials';
import { parse as parseYaml } from 'yaml';
import type { CommandContext } from '../context.js';
import { formatTable } from '../format.js';
import { printJson, printLine } from '../io.js';
import { percent } from '../reporter.js';
import { addCommonOptions, collect, examples, parseInteger, type CommonOptions } from '../options.js';
import { runPlugins } from '../plugins.js';
import { loadRawRunConfig } from '../run-common.js';
import { applyOverrides, setPath } from '../config-file.js';
import { parseSearchRunConfig } from '../config.js';

/** Where workers and `trials` find the queue when no --redis is given. */
export const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

interface TrialsStartFlags extends CommonOptions {
  config: string;
  seeds: number;
  sweep?: string[];
  redis: string;
  store: string;
  attempts: number;
}

interface TrialsReadFlags extends CommonOptions {
  redis: string;
  store?: string;
  plot?: string;
}

/** The paper's Fig. 4: validation mIoU per search epoch, one line per trial; written as PNG (or SVG by the extension). */
async function writeTrialPlot(path: string, rows: TrialStatus[]): Promise<void> {
  const { renderVegaLite, svgToPng } = await import('@autodeeplab/decode');
  const values = rows.flatMap((r) => r.history.flatMap((mIoU, i) => (mIoU === null ? [] : [{ trial: r.id, epoch: i + 1, mIoU: 100 * mIoU }])));
  if (values.length === 0) throw new UserInputError(`--plot ${path}: no trial has a validation yet (the config needs a val dataset)`);
  const svg = await renderVegaLite({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Validation mIoU per search epoch, one line per trial',
    width: 480,
    height: 300,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { title: 'search epoch', tickMinStep: 1 } },
      y: { field: 'mIoU', type: 'quantitative', axis: { title: 'validation mIoU (%)' }, scale: { zero: false } },
      color: { field: 'trial', type: 'nominal', legend: { title: 'trial' } },
    },
  });
  await mkdir(dirname(resolve(path)), { recursive: true });
  await writeFile(path, extname(path).toLowerCase() === '.svg' ? svg : svgToPng(svg));
}

/** `key=v1,v2` → the axis; the values are read as a YAML list, so `crop=[17,17],[9,9]` and `lr=0.01,0.02` both work. */
export function parseSweep(text: string): { key: string; values: unknown[] } {
  const eq = text.indexOf('=');
  const key = eq > 0 ? text.slice(0, eq).trim() : '';
  let values: unknown;
  try {
    values = parseYaml(`[${text.slice(eq + 1)}]`);
  } catch {
    values = undefined;
  }
  if (!key || !Array.isArray(values) || values.length === 0 || values.some((v) => v === null)) {
    throw new UserInputError(`--sweep '${text}': expected field.path=v1,v2 (e.g. search.weightLr=0.01,0.025)`);
  }
  return { key, values };
}

/** The trials' jobs: the config validated for every trial (a bad config or sweep key fails here, before anything is enqueued). */
async function plannedJobs(options: TrialsStartFlags) {
  const { planTrials } = await import('@autodeeplab/trials');
  const loaded = await loadRawRunConfig({ config: options.config }, {}, 'search');
  const source = resolve(options.config);
  const base = await runPlugins(loaded.raw, { config: options.config }, loaded.source);
  delete base.runDir;
  const probeRunDir = join(resolve(options.store), 'trial');
  parseSearchRunConfig({ ...base, runDir: probeRunDir }, loaded.source);
  const sweep = (options.sweep ?? []).map(parseSweep);
  const firstSeed = typeof base.seed === 'number' ? base.seed : 0;
  return planTrials({ seeds: options.seeds, firstSeed, sweep }).map((trial) => {
    let config = applyOverrides(base, { seed: trial.seed });
    for (const [key, value] of Object.entries(trial.point)) {
      const where = `--sweep ${key}=${JSON.stringify(value)} (on ${loaded.source})`;
      try {
        config = setPath(config, key, value);
      } catch (error) {
        throw new UserInputError(`${where}: ${(error as Error).message}`, { cause: error });
      }
      parseSearchRunConfig({ ...config, runDir: probeRunDir }, where);
    }
    return { ...trial, config, source };
  });
}

function registerStart(trials: Command, ctx: CommandContext): void {
  const command = trials
    .command('start')
    .description('enqueue one search per seed and sweep point (each with its full, validated config)')
    .requiredOption('-c, --config <file>', 'the search config every trial starts from (YAML or JSON, as for autodeeplab search)')
    .requiredOption('--seeds <n>', 'trials per sweep point, seeded seed, seed+1, … (seed: the config’s, default 0)', parseInteger('--seeds', 1))
    .option('--sweep <field=v1,v2>', 'also vary a config field over these values (repeatable: the grid of all)', collect)
    .option('--redis <url>', 'the queue’s Redis', DEFAULT_REDIS)
    .requiredOption('--store <dir>', 'where the workers write the trials’ run directories (<store>/<trial-id>/)')
    .option('--attempts <n>', 'runs of a trial before transient errors mark it failed (user errors: never retried)', parseInteger('--attempts', 1), 3)
    .addHelpText(
      'after',
      examples([
        'autodeeplab trials start --config search.yaml --seeds 10 --store /shared/trials',
        'autodeeplab trials start --config search.yaml --seeds 3 --sweep search.archStartEpoch=10,20 --redis redis://queue-host:6379 --store /shared/trials',
      ]),
    );
  addCommonOptions(command).action(async (options: TrialsStartFlags) => {
    const jobs = await plannedJobs(options);
    const { assertWritableStore, displayRedisUrl, enqueueTrials } = await import('@autodeeplab/trials');
    await assertWritableStore(resolve(options.store));
    const report = await enqueueTrials({ redis: options.redis, trials: jobs, attempts: options.attempts });
    if (options.json) return printJson(ctx.io, { redis: displayRedisUrl(options.redis), ...report });
    printLine(
      ctx.io,
      `enqueued ${report.added.length} trial(s) on ${displayRedisUrl(options.redis)}${report.existing.length ? ` (${report.existing.length} already queued)` : ''}`,
    );
    for (const id of report.added) printLine(ctx.io, `  ${id}`);
    printLine(ctx.io, `run workers with: autodeeplab worker --redis ${displayRedisUrl(options.redis)} --store ${options.store}`);
  });
}

function registerStatus(trials: Command, ctx: CommandContext): void {
  const command = trials
    .command('status')
    .description("each trial's state, epoch, latest validation mIoU, worker and restarts (from the queue, on any machine)")
    .option('--redis <url>', 'the queue’s Redis', DEFAULT_REDIS)
    .option('--plot <file>', "also draw every trial's validation mIoU per epoch in one chart (the paper's Fig. 4): .png or .svg");
  addCommonOptions(command).action(async (options: TrialsReadFlags) => {
    const { listTrials } = await import('@autodeeplab/trials');
    const rows = await listTrials({ redis: options.redis });
    if (options.plot) await writeTrialPlot(options.plot, rows);
    if (options.json) return printJson(ctx.io, rows);
    if (rows.length === 0) return printLine(ctx.io, 'no trials in the queue (enqueue some with autodeeplab trials start)');
    const table = rows.map((r) => [
      r.id,
      r.state,
      `${r.epoch}/${r.epochs || '?'}`,
      r.mIoU === null ? '-' : percent(r.mIoU),
      r.worker ?? '-',
      String(Math.max(0, r.starts - 1)),
    ]);
    printLine(ctx.io, formatTable([['TRIAL', 'STATE', 'EPOCH', 'VAL mIoU', 'WORKER', 'RESTARTS'], ...table]).trimEnd());
    for (const r of rows.filter((row) => row.failedReason)) printLine(ctx.io, `${r.id} failed: ${r.failedReason}`);
    if (options.plot) printLine(ctx.io, `plot: ${options.plot}`);
  });
}

function registerBest(trials: Command, ctx: CommandContext): void {
  const command = trials
    .command('best')
    .description('the best completed trial (highest validation mIoU at the last epoch) and its architecture')
    .option('--redis <url>', 'the queue’s Redis', DEFAULT_REDIS)
    .requiredOption('--store <dir>', 'the trials’ store (as given to the workers)');
  addCommonOptions(command).action(async (options: TrialsReadFlags) => {
    const { BEST_RULE, bestTrial } = await import('@autodeeplab/trials');
    const { GENOTYPE_FILE } = await import('@autodeeplab/optim');
    const { readGenotype } = await import('@autodeeplab/genotype');
    const best = await bestTrial({ redis: options.redis, store: resolve(options.store!) });
    const genotypePath = join(best.runDir, GENOTYPE_FILE);
    const genotype = await readGenotype(genotypePath);
    if (options.json) return printJson(ctx.io, { rule: BEST_RULE, ...best, genotypeFile: genotypePath, genotype });
    const { genotypeText } = await import('../genotype-text.js');
    const point = Object.entries(best.point).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    printLine(ctx.io, `best trial: ${best.id} (seed ${best.seed}${point.length ? `, ${point.join(', ')}` : ''})`);
    printLine(ctx.io, `validation mIoU ${percent(best.mIoU)} at epoch ${best.epochs}/${best.epochs}; rule: ${BEST_RULE}`);
    printLine(ctx.io, `run directory: ${best.runDir}`);
    ctx.io.stdout.write(genotypeText(genotype));
    printLine(ctx.io);
    printLine(ctx.io, `genotype: ${genotypePath}`);
  });
}

export function registerTrials(program: Command, ctx: CommandContext): void {
  const trials = program
    .command('trials')
    .description('many searches (seeds × sweep points) on a Redis queue, run by `autodeeplab worker` on any number of machines')
    .addHelpText(
      'after',
      examples([
        'autodeeplab trials start --config search.yaml --seeds 10 --store /shared/trials',
        'autodeeplab trials status',
        'autodeeplab trials best --store /shared/trials',
      ]),
    );
  registerStart(trials, ctx);
  registerStatus(trials, ctx);
  registerBest(trials, ctx);
}
