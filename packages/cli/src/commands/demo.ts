import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '@autodeeplab/core';
import { note, type CommandContext } from '../context.js';
import { toYaml } from '../config-file.js';
import { formatDuration } from '../format.js';
import { printJson, printLine } from '../io.js';
import { addCommonOptions, examples, type CommonOptions } from '../options.js';
import { percent } from '../reporter.js';
import { GENOTYPE_FILE } from '@autodeeplab/optim';
import { runEval } from './eval.js';
import { runPredict } from './predict.js';
import { runSearch } from './search.js';
import { runTrain } from './train.js';

interface DemoFlags extends CommonOptions {
  out: string;
  overwrite: boolean;
}

/** Synthetic data: 4 classes of shapes at 33×33 (32k+1 sizes keep the scales aligned). */
const DATA = { kind: 'synthetic', size: 24, height: 33, width: 33, numClasses: 4 };
const VAL = { ...DATA, size: 8, seed: 1 };
/** Training the found (small) network is cheap: more images and epochs than the search. */
const TRAIN_DATA = { ...DATA, size: 64, seed: 2 };

/** A small search: a 4-layer trellis over scales 4, 8, 16 with F = 4, α/β trained from epoch 2. */
export function demoSearchConfig(runDir: string, seed: number) {
  return {
    runDir,
    seed,
    dataset: DATA,
    val: VAL,
    data: { batchSize: 2, transforms: { flip: true } },
    searchSpace: { layers: 4, blocks: 3, filterMultiplier: 4, scales: [4, 8, 16] },
    search: { epochs: 4, archStartEpoch: 2, weightLr: 0.05, checkpointEvery: 0 },
  };
}

/**
 * A short training of the found network, with a narrow stem and heads. A few hundred steps: BN's
 * moving averages use decay 0.9 (the official 0.9997 needs thousands of steps to settle).
 */
export function demoTrainConfig(runDir: string, genotype: string, seed: number) {
  return {
    runDir,
    seed,
    genotype,
    dataset: TRAIN_DATA,
    val: VAL,
    data: { batchSize: 4, transforms: { flip: true } },
    network: { filterMultiplier: 4, stemFilters: [8, 8, 16], asppFilters: 32, lowLevelFilters: 8, decoderFilters: 32, batchNormDecay: 0.9 },
    train: { epochs: 25, lr: 0.05, checkpointEvery: 0, validateEvery: 5 },
  };
}

export function registerDemo(program: Command, ctx: CommandContext): void {
  const command = program
    .command('demo')
    .description('the whole pipeline on synthetic data: search, decode, train, evaluate, predict (a few minutes on a laptop CPU)')
    .option('-o, --out <dir>', 'where to write everything', 'autodeeplab-demo')
    .option('--overwrite', 'replace an earlier demo in the same folder', false)
    .addHelpText('after', examples(['autodeeplab demo', 'autodeeplab demo --out /tmp/demo --backend wasm --overwrite']));
  addCommonOptions(command).action(async (options: DemoFlags) => {
    const started = performance.now();
    const out = resolve(options.out);
    const seed = options.seed ?? 0;
    const common = {
      backend: options.backend,
      dawnBackend: options.dawnBackend,
      webgpuAdapter: options.webgpuAdapter,
      seed,
      verbose: options.verbose,
      json: false,
    };
    await mkdir(out, { recursive: true });

    note(ctx, '1/5 search');
    const searchConfig = join(out, 'search.yaml');
    await writeFileAtomic(searchConfig, toYaml(demoSearchConfig(join(out, 'search'), seed)));
    const search = await runSearch(ctx, { ...common, config: searchConfig, overwrite: options.overwrite });
    if (!search.genotype) throw new Error('the search produced no genotype');

    note(ctx, '2/5 decode: the genotype and plots are in the search run');
    note(ctx, '3/5 train the found network');
    const trainConfig = join(out, 'train.yaml');
    await writeFileAtomic(trainConfig, toYaml(demoTrainConfig(join(out, 'train'), join(out, 'search', GENOTYPE_FILE), seed)));
    const train = await runTrain(ctx, { ...common, config: trainConfig, overwrite: options.overwrite });

    note(ctx, '4/5 evaluate on the validation set');
    const evaluation = await runEval(ctx, train.runDir, { ...common, batchSize: 4, flip: false });

    note(ctx, '5/5 predict');
    const { openSynthetic, encodeRgbPng } = await import('@autodeeplab/datasets');
    const images = join(out, 'images');
    const val = openSynthetic(VAL as never);
    for (let i = 0; i < 4; i++) {
      const sample = await val.get(i);
      await writeFileAtomic(join(images, `val-${i}.png`), encodeRgbPng(sample.image, sample.width, sample.height));
    }
    const predictions = await runPredict(ctx, train.runDir, [images], { ...common, out: join(out, 'predictions'), opacity: 0.5 });

    const seconds = (performance.now() - started) / 1000;
    const summary = {
      out,
      seconds,
      search: search.runDir,
      genotype: search.genotype,
      plots: search.plots,
      train: train.runDir,
      network: train.network,
      predictions: join(out, 'predictions'),
      mIoU: evaluation.mIoU,
      pixelAccuracy: evaluation.pixelAccuracy,
      images: predictions.length,
    };
    if (options.json) {
      printJson(ctx.io, summary);
      return;
    }
    const line = (text = '') => printLine(ctx.io, text);
    line();
    line(`Demo finished in ${formatDuration(seconds)}. Everything is in ${out}:`);
    line(`  search run:    ${search.runDir}`);
    line(`  genotype:      ${search.genotype}`);
    for (const [name, path] of Object.entries(search.plots)) line(`  plot (${name}): ${path}`);
    line(`  trained net:   ${train.network}`);
    line(`  predictions:   ${join(out, 'predictions')} (${predictions.length} masks and overlays)`);
    line(`Final mIoU on the validation set: ${percent(evaluation.mIoU)} (pixel accuracy ${percent(evaluation.pixelAccuracy)})`);
  });
}
