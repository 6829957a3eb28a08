import type { Command } from 'commander';
import { UserInputError } from '@autodeeplab/core';
import { createProgress, note, setupBackend, type CommandContext } from '../context.js';
import { applyOverrides } from '../config-file.js';
import { formatTable, printable } from '../format.js';
import { printJson, printLine } from '../io.js';
import { readRunConfig, resolveNetworkDir } from '../network-dir.js';
import { addCommonOptions, collect, examples, parseInteger, type CommonOptions } from '../options.js';
import { percent } from '../reporter.js';

interface EvalFlags extends CommonOptions {
  dataset?: string;
  dataRoot?: string;
  split?: string;
  batchSize: number;
  scales?: string;
  flip: boolean;
  set?: string[];
}

export interface EvalResult {
  network: string;
  dataset: { name: string; kind: string; size: number };
  images: number;
  pixels: number;
  mIoU: number;
  pixelAccuracy: number;
  perClass: { class: string; iou: number | null }[];
}

function parseScales(text: string): number[] {
  const scales = text.split(',').map((s) => Number(s.trim()));
  if (scales.length === 0 || scales.some((s) => !(s > 0))) throw new UserInputError(`--scales: expected positive numbers such as 0.75,1,1.25; found '${text}'`);
  return scales;
}

export function registerEval(program: Command, ctx: CommandContext): void {
  const command = program
    .command('eval')
    .argument('<run-dir|network-dir>', 'a training run directory, or a saved network directory')
    .description('evaluate a trained network on a dataset split: mIoU, pixel accuracy and per-class IoU')
    .option('--dataset <kind>', "dataset kind (default: the run's validation dataset, else its training dataset)")
    .option('--data-root <dir>', 'dataset folder')
    .option('--split <name>', 'split to evaluate (e.g. val)')
    .option('--batch-size <n>', 'images per forward pass (images of different sizes need 1)', parseInteger('--batch-size', 1), 1)
    .option('--scales <list>', 'multi-scale inference: comma-separated input scales, e.g. 0.75,1,1.25')
    .option('--flip', 'also average the horizontally flipped prediction', false)
    .option('--set <field=value>', 'set a dataset field, e.g. --set dataset.labelFormat=labelIds (repeatable)', collect)
    .addHelpText(
      'after',
      examples([
        'autodeeplab eval runs/adl-s',
        'autodeeplab eval runs/adl-s --dataset cityscapes --data-root /data/cityscapes --split val --json',
        'autodeeplab eval runs/adl-s/network --dataset voc --data-root /data/VOCdevkit --split val --scales 0.5,0.75,1,1.25,1.5,1.75 --flip',
      ]),
    );
  addCommonOptions(command).action(async (path: string, options: EvalFlags) => {
    const result = await runEval(ctx, path, options);
    if (options.json) {
      printJson(ctx.io, result);
      return;
    }
    printLine(ctx.io, `${printable(result.dataset.name)}: ${result.images} images, ${result.pixels} labelled pixels`);
    ctx.io.stdout.write(
      formatTable([['class', 'IoU %'], ...result.perClass.map((c) => [printable(c.class), c.iou === null ? 'n/a' : Number((100 * c.iou).toFixed(2))])]),
    );
    printLine(ctx.io, `mIoU ${percent(result.mIoU)}   pixel accuracy ${percent(result.pixelAccuracy)}`);
  });
}

export async function runEval(ctx: CommandContext, path: string, options: EvalFlags): Promise<EvalResult> {
  const { networkDir, runDir } = resolveNetworkDir(path);
  const scales = options.scales ? parseScales(options.scales) : [1];
  const runConfig = await readRunConfig(runDir);
  let spec: Record<string, unknown> | undefined;
  if (options.dataset) spec = { kind: options.dataset };
  else if (runConfig) spec = (runConfig.val ?? runConfig.dataset) as Record<string, unknown> | undefined;
  if (!spec) throw new UserInputError(`${path}: which data? give --dataset <kind> --data-root <dir> --split <name>`);
  const dataset = applyOverrides({ dataset: spec }, { 'dataset.root': options.dataRoot, 'dataset.split': options.split }, options.set ?? []).dataset;
  await setupBackend(ctx, options);
  const { loadNetwork } = await import('@autodeeplab/model');
  const { evaluate } = await import('@autodeeplab/optim');
  const { datasetBatchSource } = await import('@autodeeplab/datasets');
  const { open } = await import('../open-dataset.js');
  const data = open(dataset as never, (line) => note(ctx, line));
  const loaded = await loadNetwork(networkDir);
  try {
    if (loaded.config.numClasses !== data.numClasses) {
      throw new UserInputError(`the network predicts ${loaded.config.numClasses} classes but the dataset ${data.name} has ${data.numClasses}`);
    }
    const resize = (runConfig?.data as { evalTransforms?: { resize?: unknown } } | undefined)?.evalTransforms?.resize;
    const source = datasetBatchSource(data, {
      batchSize: options.batchSize,
      transforms: {
        normalize: { mean: loaded.preprocessing.mean as never, std: loaded.preprocessing.std as never },
        ...(resize ? { resize: resize as never } : {}),
      },
      seed: 0,
      shuffle: false,
      dropLast: false,
    });
    const progress = createProgress(ctx);
    progress.start('eval', source.batchesPerEpoch, { unit: 'batch' });
    const result = await evaluate({
      model: loaded.network,
      data: source,
      numClasses: data.numClasses,
      scales,
      flip: options.flip,
      onBatch: ({ batches }) => progress.update(batches),
    });
    progress.finish();
    const names = loaded.classNames ?? data.classNames;
    return {
      network: networkDir,
      dataset: { name: data.name, kind: data.kind, size: data.size },
      images: result.images,
      pixels: result.pixels,
      mIoU: result.mIoU,
      pixelAccuracy: result.pixelAccuracy,
      perClass: result.perClassIoU.map((iou, i) => ({ class: names[i] ?? `class ${i}`, iou })),
    };
  } finally {
    loaded.network.dispose();
  }
}
