import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UserInputError } from '@autodeeplab/core';
import { createProgress, note, setupBackend, type CommandContext } from '../context.js';
import { printJson, printLine } from '../io.js';
import { addCommonOptions, collect, examples, parseInteger, type CommonOptions } from '../options.js';
import { RunReporter, type ReportedEvent } from '../reporter.js';
import { assertFreshRunDir, given, interruptSignal, loadRawConfig, parseSize, requireRunDir, writeResolvedConfig } from '../run-common.js';
import { CHECKPOINT_DIR, GENOTYPE_FILE, GENOTYPES_DIR, METRICS_FILE, PLOTS_DIR, epochGenotypeFile } from '@autodeeplab/optim';

interface SearchFlags extends CommonOptions {
  config?: string;
  runDir?: string;
  resume?: string;
  overwrite: boolean;
  dataset?: string;
  dataRoot?: string;
  split?: string;
  epochs?: number;
  archStartEpoch?: number;
  workers?: number;
  batchSize?: number;
  layers?: number;
  filterMultiplier?: number;
  crop?: [number, number];
  set?: string[];
}

export interface SearchSummary {
  runDir: string;
  config: string;
  genotype: string | null;
  genotypes: string;
  metrics: string;
  checkpoint: string | null;
  plots: Record<string, string>;
  interrupted: boolean;
  steps: number;
  seconds: number;
  validation: { mIoU: number; pixelAccuracy: number } | null;
}

export function registerSearch(program: Command, ctx: CommandContext): void {
  const command = program
    .command('search')
    .description('run an architecture search (bilevel optimisation of the supernet) and write a run directory')
    .option('-c, --config <file>', 'run config, YAML or JSON (see the README for every field)')
    .option('-r, --run-dir <dir>', 'where to write the run (overrides runDir)')
    .option('--resume <run-dir>', 'continue an interrupted run from its last checkpoint')
    .option('--overwrite', 'start afresh in a run directory that holds an earlier checkpoint', false)
    .option('--dataset <kind>', 'dataset kind: cityscapes, voc, ade20k, folder, synthetic (overrides dataset.kind)')
    .option('--data-root <dir>', 'dataset folder (overrides dataset.root)')
    .option('--split <name>', 'dataset split (overrides dataset.split)')
    .option('--epochs <n>', 'search epochs (overrides search.epochs)', parseInteger('--epochs', 1))
    .option('--arch-start-epoch <n>', 'first epoch that updates α and β (overrides search.archStartEpoch)', parseInteger('--arch-start-epoch'))
    .option('--batch-size <n>', 'images per step (overrides data.batchSize)', parseInteger('--batch-size', 1))
    .option(
      '--workers <n>',
      'threads that share each batch, one backend each (overrides search.workers; 2 uses both cores of a 2-core machine)',
      parseInteger('--workers', 1),
    )
    .option('--layers <n>', 'trellis layers L (overrides searchSpace.layers)', parseInteger('--layers', 1))
    .option('--filter-multiplier <n>', 'filter multiplier F (overrides searchSpace.filterMultiplier)', parseInteger('--filter-multiplier', 1))
    .option('--crop <HxW>', 'random training crop (overrides data.transforms.crop)', parseSize)
    .option('--set <field=value>', 'set any config field, e.g. --set search.weightLr=0.01 (repeatable)', collect)
    .addHelpText(
      'after',
      examples([
        'autodeeplab search --config search.yaml --run-dir runs/search-1',
        'autodeeplab search --dataset cityscapes --data-root /data/cityscapes --crop 321x321 --run-dir runs/cs',
        'autodeeplab search --dataset synthetic --layers 4 --filter-multiplier 4 --epochs 2 --arch-start-epoch 1 --run-dir runs/tiny',
        'autodeeplab search --resume runs/search-1',
      ]),
    );
  addCommonOptions(command).action(async (options: SearchFlags) => {
    const summary = await runSearch(ctx, options);
    if (options.json) printJson(ctx.io, summary);
    else printSearchSummary(ctx, summary);
  });
}

function printSearchSummary(ctx: CommandContext, s: SearchSummary): void {
  const out = (line = '') => printLine(ctx.io, line);
  out(`${s.interrupted ? 'Search interrupted' : 'Search finished'}: ${s.steps} steps`);
  if (s.validation) out(`validation mIoU ${(100 * s.validation.mIoU).toFixed(2)}%, pixel accuracy ${(100 * s.validation.pixelAccuracy).toFixed(2)}%`);
  out(`run directory: ${s.runDir}`);
  out(`  config:      ${s.config}`);
  if (s.genotype) out(`  genotype:    ${s.genotype}`);
  out(`  per epoch:   ${s.genotypes}`);
  out(`  metrics:     ${s.metrics}`);
  if (s.checkpoint) out(`  checkpoint:  ${s.checkpoint}`);
  for (const [name, path] of Object.entries(s.plots)) out(`  plot:        ${path} (${name})`);
  if (s.interrupted) out(`continue with: autodeeplab search --resume ${s.runDir}`);
}

export async function runSearch(ctx: CommandContext, options: SearchFlags): Promise<SearchSummary> {
  const { raw, source } = await loadRawConfig(options, {
    runDir: options.runDir,
    seed: options.seed,
    'dataset.kind': options.dataset,
    'dataset.root': options.dataRoot,
    'dataset.split': options.split,
    'search.epochs': options.epochs,
    'search.archStartEpoch': options.archStartEpoch,
    'search.workers': options.workers,
    'data.batchSize': options.batchSize,
    'searchSpace.layers': options.layers,
    'searchSpace.filterMultiplier': options.filterMultiplier,
    'data.transforms.crop': options.crop,
  });
  if (!given(raw, 'dataset')) throw new UserInputError(`${source}: no dataset: give --dataset <kind> (and --data-root) or a dataset section in the config`);
  await setupBackend(ctx, options);
  // The packages are loaded only when a command needs them (fast --help, clear errors).
  const { parseSearchRunConfig } = await import('../config.js');
  const { datasetBatchSource, searchSplit } = await import('@autodeeplab/datasets');
  const { Supernet } = await import('@autodeeplab/search-space');
  const { search } = await import('@autodeeplab/optim');
  const { decode, writePlots } = await import('@autodeeplab/decode');
  const { writeGenotype } = await import('@autodeeplab/genotype');
  const { open } = await import('../open-dataset.js');

  const config = parseSearchRunConfig(raw, source);
  const runDir = requireRunDir(config.runDir);
  config.runDir = runDir;
  if (!given(raw, 'search.seed')) config.search.seed = config.seed;
  const warn = (line: string) => note(ctx, line);
  const dataset = open(config.dataset, warn);
  if (!given(raw, 'searchSpace.numClasses')) config.searchSpace.numClasses = dataset.numClasses;
  else if (config.searchSpace.numClasses !== dataset.numClasses) {
    throw new UserInputError(
      `${source}: searchSpace.numClasses is ${config.searchSpace.numClasses} but the dataset ${dataset.name} has ${dataset.numClasses} classes`,
    );
  }
  const val = config.val ? open(config.val, warn) : undefined;
  if (val && val.numClasses !== dataset.numClasses) {
    throw new UserInputError(`${source}: the validation dataset has ${val.numClasses} classes, the training dataset ${dataset.numClasses}`);
  }
  const split = searchSplit(dataset, { seed: config.seed, fraction: config.data.splitFraction });
  const train = (indices: number[], seedOffset: number) =>
    datasetBatchSource(dataset, {
      indices,
      batchSize: config.data.batchSize,
      transforms: config.data.transforms,
      seed: config.seed + seedOffset,
      shuffle: true,
      dropLast: true,
      prefetch: config.data.prefetch,
    });
  const data = {
    trainA: train(split.trainA, 0),
    trainB: train(split.trainB, 1),
    ...(val
      ? {
          val: datasetBatchSource(val, {
            batchSize: config.data.batchSize,
            transforms: config.data.evalTransforms,
            seed: config.seed,
            shuffle: false,
            dropLast: false,
          }),
        }
      : {}),
  };
  for (const [name, source_] of Object.entries({ trainA: data.trainA, trainB: data.trainB })) {
    if (source_.batchesPerEpoch < 1) {
      const images = name === 'trainA' ? split.sizes.trainA : split.sizes.trainB;
      throw new UserInputError(
        `${name} has ${images} images, fewer than one batch of ${config.data.batchSize}: use a larger dataset or a smaller --batch-size`,
      );
    }
  }

  await assertFreshRunDir(runDir, options);
  const configPath = await writeResolvedConfig(runDir, config);
  await mkdir(join(runDir, GENOTYPES_DIR), { recursive: true });
  const supernet = new Supernet(config.searchSpace, { seed: config.seed });
  const progress = createProgress(ctx);
  const reporter = new RunReporter(progress, { verbose: options.verbose });
  const interrupt = interruptSignal(() => progress.log('interrupting: stopping at the next step with a checkpoint (Ctrl-C again to quit now)'));
  let done: Extract<ReportedEvent, { type: 'done' }> | undefined;
  let genotype: import('@autodeeplab/genotype').Genotype | undefined;
  let checkpoint: string | null = null;
  try {
    for await (const event of search({
      model: supernet,
      data,
      runDir,
      config: config.search,
      numClasses: dataset.numClasses,
      resume: options.resume ? true : false,
      overwrite: options.overwrite,
      signal: interrupt.signal,
      decode: (_model, at) => decode(supernet, { source: 'search', epoch: at.epoch, step: at.step }),
    })) {
      reporter.handle(event);
      if (event.type === 'arch' && event.genotype) {
        // Each epoch's genotype, and the latest as the run's genotype (kept when the run stops early).
        genotype = event.genotype;
        await writeGenotype(join(runDir, GENOTYPES_DIR, epochGenotypeFile(event.epoch + 1)), event.genotype);
        await writeGenotype(join(runDir, GENOTYPE_FILE), event.genotype);
      }
      if (event.type === 'checkpoint') checkpoint = event.path;
      if (event.type === 'done') {
        done = event;
        if (event.genotype) genotype = event.genotype;
      }
    }
    let plots: Record<string, string> = {};
    let genotypePath: string | null = null;
    if (genotype) {
      genotypePath = join(runDir, GENOTYPE_FILE);
      await writeGenotype(genotypePath, genotype);
      const alpha = (await supernet.alpha.array()) as number[][];
      const beta = (await supernet.beta.array()) as number[];
      const written = await writePlots(join(runDir, PLOTS_DIR), { genotype, alpha, beta, config: config.searchSpace });
      plots = { trellis: written.trellis.png, cell: written.cell.png, ...(written.alpha ? { alpha: written.alpha.png } : {}) };
    }
    return {
      runDir,
      config: configPath,
      genotype: genotypePath,
      genotypes: join(runDir, GENOTYPES_DIR),
      metrics: join(runDir, METRICS_FILE),
      checkpoint: checkpoint ?? (done ? join(runDir, CHECKPOINT_DIR) : null),
      plots,
      interrupted: done?.interrupted ?? false,
      steps: done?.step ?? 0,
      seconds: done?.seconds ?? 0,
      validation: done?.validation ?? null,
    };
  } finally {
    interrupt.dispose();
    progress.finish();
    supernet.dispose();
  }
}
