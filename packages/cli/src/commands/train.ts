import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UserInputError } from '@autodeeplab/core';
import { createProgress, note, setupBackend, type CommandContext } from '../context.js';
import { printJson, printLine } from '../io.js';
import { addCommonOptions, collect, examples, parseInteger, parseNumber, type CommonOptions } from '../options.js';
import { RunReporter, percent, type ReportedEvent } from '../reporter.js';
import { assertFreshRunDir, given, interruptSignal, loadRawConfig, parseSize, requireRunDir, writeResolvedConfig } from '../run-common.js';
import { METRICS_FILE, NETWORK_DIR } from '@autodeeplab/optim';

interface TrainFlags extends CommonOptions {
  config?: string;
  genotype?: string;
  preset?: 'S' | 'M' | 'L';
  filterMultiplier?: number;
  runDir?: string;
  resume?: string;
  overwrite: boolean;
  dataset?: string;
  dataRoot?: string;
  split?: string;
  valSplit?: string;
  epochs?: number;
  workers?: number;
  steps?: number;
  batchSize?: number;
  lr?: number;
  crop?: [number, number];
  set?: string[];
}

export interface TrainSummary {
  runDir: string;
  config: string;
  network: string;
  metrics: string;
  parameters: number;
  interrupted: boolean;
  steps: number;
  seconds: number;
  validation: { mIoU: number; pixelAccuracy: number } | null;
}

/** Network input preprocessing recorded with the weights: the normalisation of the evaluation transforms. */
export function preprocessingOf(normalize: false | { mean: number[]; std: number[] }): { mean: number[]; std: number[] } {
  return normalize === false ? { mean: [0, 0, 0], std: [1, 1, 1] } : { mean: [...normalize.mean], std: [...normalize.std] };
}

export function registerTrain(program: Command, ctx: CommandContext): void {
  const command = program
    .command('train')
    .description("train the network of a genotype (the paper's or a searched one) with a preset or a filter multiplier")
    .option('-c, --config <file>', 'run config, YAML or JSON (see the README for every field)')
    .option('-g, --genotype <paper|file>', "genotype: 'paper' or a genotype.json (overrides genotype)")
    .addOption(new Option('--preset <size>', 'network size: S (F=20), M (F=32), L (F=48) (overrides network.preset)').choices(['S', 'M', 'L']))
    .option(
      '-F, --filter-multiplier <n>',
      'filter multiplier F instead of a preset (overrides network.filterMultiplier)',
      parseInteger('--filter-multiplier', 1),
    )
    .option('-r, --run-dir <dir>', 'where to write the run (overrides runDir)')
    .option('--resume <run-dir>', 'continue an interrupted run from its last checkpoint')
    .option('--overwrite', 'start afresh in a run directory that holds an earlier checkpoint', false)
    .option('--dataset <kind>', 'dataset kind: cityscapes, voc, ade20k, folder, synthetic (overrides dataset.kind)')
    .option('--data-root <dir>', 'dataset folder (overrides dataset.root)')
    .option('--split <name>', 'training split (overrides dataset.split)')
    .option('--val-split <name>', 'validate on this split of the same dataset after each epoch (sets val)')
    .option('--epochs <n>', 'training epochs (overrides train.epochs)', parseInteger('--epochs', 1))
    .option('--steps <n>', 'total steps instead of epochs (overrides train.steps)', parseInteger('--steps', 1))
    .option('--batch-size <n>', 'images per step (overrides data.batchSize)', parseInteger('--batch-size', 1))
    .option('--workers <n>', 'threads that share each batch, one backend each (overrides train.workers)', parseInteger('--workers', 1))
    .option('--lr <x>', 'base learning rate of the poly schedule (overrides train.lr)', parseNumber('--lr', { positive: true }))
    .option('--crop <HxW>', 'random training crop (overrides data.transforms.crop)', parseSize)
    .option('--set <field=value>', 'set any config field, e.g. --set train.weightDecay=1e-4 (repeatable)', collect)
    .addHelpText(
      'after',
      examples([
        'autodeeplab train --genotype paper --preset S --dataset cityscapes --data-root /data/cityscapes --crop 769x769 --val-split val --run-dir runs/adl-s',
        'autodeeplab train --genotype runs/search-1/genotype.json -F 8 --dataset synthetic --epochs 5 --run-dir runs/t1',
        'autodeeplab train --config train.yaml',
        'autodeeplab train --resume runs/adl-s',
      ]),
    );
  addCommonOptions(command).action(async (options: TrainFlags) => {
    if (options.preset && options.filterMultiplier !== undefined) {
      throw new InvalidArgumentError('give --preset or --filter-multiplier, not both');
    }
    const summary = await runTrain(ctx, options);
    if (options.json) printJson(ctx.io, summary);
    else {
      const out = (line = '') => printLine(ctx.io, line);
      out(`${summary.interrupted ? 'Training interrupted' : 'Training finished'}: ${summary.steps} steps, ${summary.parameters} parameters`);
      if (summary.validation) out(`validation mIoU ${percent(summary.validation.mIoU)}, pixel accuracy ${percent(summary.validation.pixelAccuracy)}`);
      out(`run directory: ${summary.runDir}`);
      out(`  config:   ${summary.config}`);
      out(`  network:  ${summary.network}`);
      out(`  metrics:  ${summary.metrics}`);
      out(summary.interrupted ? `continue with: autodeeplab train --resume ${summary.runDir}` : `evaluate with: autodeeplab eval ${summary.runDir}`);
    }
  });
}

export async function runTrain(ctx: CommandContext, options: TrainFlags): Promise<TrainSummary> {
  const flags: Record<string, unknown> = {
    runDir: options.runDir,
    seed: options.seed,
    genotype: options.genotype,
    'dataset.kind': options.dataset,
    'dataset.root': options.dataRoot,
    'dataset.split': options.split,
    'train.epochs': options.epochs,
    'train.workers': options.workers,
    'train.steps': options.steps,
    'train.lr': options.lr,
    'data.batchSize': options.batchSize,
    'data.transforms.crop': options.crop,
  };
  if (options.preset) flags.network = { preset: options.preset };
  if (options.filterMultiplier !== undefined) flags.network = { filterMultiplier: options.filterMultiplier };
  const { raw, source } = await loadRawConfig(options, flags);
  if (!given(raw, 'dataset')) throw new UserInputError(`${source}: no dataset: give --dataset <kind> (and --data-root) or a dataset section in the config`);
  if (options.valSplit) raw.val = { ...(raw.dataset as Record<string, unknown>), split: options.valSplit };
  await setupBackend(ctx, options);
  const { parseTrainRunConfig } = await import('../config.js');
  const { loadGenotype } = await import('@autodeeplab/genotype');
  const { buildNetwork, saveNetwork } = await import('@autodeeplab/model');
  const { train } = await import('@autodeeplab/optim');
  const { datasetBatchSource } = await import('@autodeeplab/datasets');
  const { open } = await import('../open-dataset.js');

  const config = parseTrainRunConfig(raw, source);
  const runDir = requireRunDir(config.runDir);
  config.runDir = runDir;
  if (!given(raw, 'train.seed')) config.train.seed = config.seed;
  const genotype = await loadGenotype(config.genotype);
  const warn = (line: string) => note(ctx, line);
  const dataset = open(config.dataset, warn);
  if (config.network.numClasses !== undefined && config.network.numClasses !== dataset.numClasses) {
    throw new UserInputError(`${source}: network.numClasses is ${config.network.numClasses} but the dataset ${dataset.name} has ${dataset.numClasses} classes`);
  }
  const val = config.val ? open(config.val, warn) : undefined;
  const trainSource = datasetBatchSource(dataset, {
    batchSize: config.data.batchSize,
    transforms: config.data.transforms,
    seed: config.seed,
    shuffle: true,
    dropLast: true,
    prefetch: config.data.prefetch,
  });
  if (trainSource.batchesPerEpoch < 1) {
    throw new UserInputError(`the training data has ${dataset.size} images, fewer than one batch of ${config.data.batchSize}`);
  }
  const valSource = val
    ? datasetBatchSource(val, { batchSize: config.data.batchSize, transforms: config.data.evalTransforms, seed: config.seed, shuffle: false, dropLast: false })
    : undefined;

  await assertFreshRunDir(runDir, options);
  const configPath = await writeResolvedConfig(runDir, config);
  const { preset, ...networkOptions } = config.network;
  const network = buildNetwork(genotype, {
    ...networkOptions,
    ...(preset ? { preset } : {}),
    numClasses: dataset.numClasses,
    seed: config.seed,
  });
  const progress = createProgress(ctx);
  const reporter = new RunReporter(progress, { verbose: options.verbose });
  const interrupt = interruptSignal(() => progress.log('interrupting: stopping at the next step with a checkpoint (Ctrl-C again to quit now)'));
  let done: Extract<ReportedEvent, { type: 'done' }> | undefined;
  try {
    for await (const event of train({
      model: network,
      data: { train: trainSource, ...(valSource ? { val: valSource } : {}) },
      runDir,
      config: config.train,
      numClasses: dataset.numClasses,
      resume: options.resume ? true : false,
      overwrite: options.overwrite,
      signal: interrupt.signal,
    })) {
      reporter.handle(event);
      if (event.type === 'done') done = event;
    }
    const networkDir = join(runDir, NETWORK_DIR);
    await saveNetwork(networkDir, network, {
      preprocessing: preprocessingOf(config.data.evalTransforms.normalize),
      classNames: [...dataset.classNames],
    });
    return {
      runDir,
      config: configPath,
      network: networkDir,
      metrics: join(runDir, METRICS_FILE),
      parameters: network.parameterCount(),
      interrupted: done?.interrupted ?? false,
      steps: done?.step ?? 0,
      seconds: done?.seconds ?? 0,
      validation: done?.validation ?? null,
    };
  } finally {
    interrupt.dispose();
    progress.finish();
    network.dispose();
  }
}
