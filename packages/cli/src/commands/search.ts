import { InvalidArgumentError, type Command } from 'commander';
import { setupBackend, type CommandContext } from '../context.js';
import { printJson, printLine } from '../io.js';
import { addCommonOptions, collect, examples, parseInteger, type CommonOptions } from '../options.js';
import { runPlugins } from '../plugins.js';
import { exitIfStoppedBySignal, loadRawRunConfig, parseSize, type RunOutcome } from '../run-common.js';

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
  keep?: KeepList;
  set?: string[];
}

/** What `--keep` asks for: `best` (the best validation's checkpoint) and `last` (the latest, always kept). */
export type KeepList = ('best' | 'last')[];

/** `--keep best,last`: a comma list of `best` and `last`. */
export function parseKeepList(value: string): KeepList {
  const items = value.split(',').map((item) => item.trim());
  const unknown = items.filter((item) => item !== 'best' && item !== 'last');
  if (items.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`expected a comma list of 'best' and 'last' (e.g. best,last), found '${value}'.`);
  }
  return items as KeepList;
}

export interface SearchSummary extends RunOutcome {
  runDir: string;
  config: string;
  genotype: string | null;
  genotypes: string;
  metrics: string;
  checkpoint: string | null;
  plots: Record<string, string>;
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
    .option('--keep <list>', "checkpoints to keep: 'best,last' also keeps the best validation's in checkpoint-best/ (sets search.keepBest)", parseKeepList)
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
    exitIfStoppedBySignal(summary);
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
  out(`  report:      autodeeplab report ${s.runDir}  (writes ${s.runDir}/report.html)`);
  if (s.checkpoint) out(`  checkpoint:  ${s.checkpoint}`);
  for (const [name, path] of Object.entries(s.plots)) out(`  plot:        ${path} (${name})`);
  if (s.interrupted) out(`continue with: autodeeplab search --resume ${s.runDir}`);
}

export async function runSearch(ctx: CommandContext, options: SearchFlags): Promise<SearchSummary> {
  const { raw, source } = await loadRawRunConfig(options, searchConfigFlags(options), 'search');
  await setupBackend(ctx, options);
  // The packages are loaded only when a command needs them (fast --help, clear errors).
  const { searchFromConfig } = await import('./search-run.js');
  return searchFromConfig(ctx, options, await runPlugins(raw, options, source), source);
}

/** The config fields that the flags set. */
function searchConfigFlags(options: SearchFlags): Record<string, unknown> {
  return {
    runDir: options.runDir,
    seed: options.seed,
    'dataset.kind': options.dataset,
    'dataset.root': options.dataRoot,
    'dataset.split': options.split,
    'search.epochs': options.epochs,
    'search.archStartEpoch': options.archStartEpoch,
    'search.workers': options.workers,
    'search.keepBest': options.keep?.includes('best'),
    'data.batchSize': options.batchSize,
    'searchSpace.layers': options.layers,
    'searchSpace.filterMultiplier': options.filterMultiplier,
    'data.transforms.crop': options.crop,
  };
}
