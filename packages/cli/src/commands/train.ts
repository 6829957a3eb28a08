import { Option, type Command } from 'commander';
import { UserInputError } from '@autodeeplab/core';
import { setupBackend, type CommandContext } from '../context.js';
import { printJson, printLine } from '../io.js';
import { addCommonOptions, collect, examples, parseInteger, parseNumber, type CommonOptions } from '../options.js';
import { percent } from '../reporter.js';
import { runPlugins } from '../plugins.js';
import { exitIfStoppedBySignal, loadRawRunConfig, parseSize, type RunOutcome } from '../run-common.js';
import { parseKeepList, type KeepList } from './search.js';

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
  keep?: KeepList;
  set?: string[];
}

export interface TrainSummary extends RunOutcome {
  runDir: string;
  config: string;
  network: string;
  metrics: string;
  parameters: number;
}

// Defined in run-common so that train-run.ts can use it without importing this module.
export { preprocessingOf } from '../run-common.js';

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
    .option('--keep <list>', "checkpoints to keep: 'best,last' also keeps the best validation's in checkpoint-best/ (sets train.keepBest)", parseKeepList)
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
      throw new UserInputError('give --preset or --filter-multiplier, not both');
    }
    const summary = await runTrain(ctx, options);
    if (options.json) printJson(ctx.io, summary);
    else printTrainSummary(ctx, summary);
    exitIfStoppedBySignal(summary);
  });
}

function printTrainSummary(ctx: CommandContext, s: TrainSummary): void {
  const out = (line = '') => printLine(ctx.io, line);
  out(`${s.interrupted ? 'Training interrupted' : 'Training finished'}: ${s.steps} steps, ${s.parameters} parameters`);
  if (s.validation) out(`validation mIoU ${percent(s.validation.mIoU)}, pixel accuracy ${percent(s.validation.pixelAccuracy)}`);
  out(`run directory: ${s.runDir}`);
  out(`  config:   ${s.config}`);
  out(`  network:  ${s.network}`);
  out(`  metrics:  ${s.metrics}`);
  out(`  report:   autodeeplab report ${s.runDir}  (writes ${s.runDir}/report.html)`);
  out(s.interrupted ? `continue with: autodeeplab train --resume ${s.runDir}` : `evaluate with: autodeeplab eval ${s.runDir}`);
}

export async function runTrain(ctx: CommandContext, options: TrainFlags): Promise<TrainSummary> {
  const { raw, source } = await loadRawRunConfig(options, trainConfigFlags(options), 'train');
  if (options.valSplit) raw.val = { ...(raw.dataset as Record<string, unknown>), split: options.valSplit };
  await setupBackend(ctx, options);
  // The packages are loaded only when a command needs them (fast --help, clear errors).
  const { trainFromConfig } = await import('./train-run.js');
  return trainFromConfig(ctx, options, await runPlugins(raw, options, source), source);
}

/** The config fields that the flags set. */
function trainConfigFlags(options: TrainFlags): Record<string, unknown> {
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
    'train.keepBest': options.keep?.includes('best'),
    'data.batchSize': options.batchSize,
    'data.transforms.crop': options.crop,
  };
  if (options.preset) flags.network = { preset: options.preset };
  if (options.filterMultiplier !== undefined) flags.network = { filterMultiplier: options.filterMultiplier };
  return flags;
}
