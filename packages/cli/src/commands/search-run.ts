/**
 * The body of `autodeeplab search`, loaded only when a search runs (search.ts stays light for --help):
 * config → datasets → batches → the search loop → genotype files and plots.
 */
import { join } from 'node:path';
import { UserInputError } from '@autodeeplab/core';
import { parseSearchRunConfig, type SearchRunConfig } from '../config.js';
import { datasetBatchSource, searchSplit, type Dataset } from '@autodeeplab/datasets';
import { Supernet } from '@autodeeplab/search-space';
import { CHECKPOINT_DIR, GENOTYPE_FILE, GENOTYPES_DIR, METRICS_FILE, PLOTS_DIR, epochGenotypeFile, search } from '@autodeeplab/optim';
import { decode, writePlots } from '@autodeeplab/decode';
import { writeGenotype, type Genotype } from '@autodeeplab/genotype';
import { note, type CommandContext } from '../context.js';
import { open } from '../open-dataset.js';
import {
  evaluationBatchOptions,
  given,
  runOutcome,
  settleRunDir,
  startRunDir,
  trainingBatchOptions,
  withRunSession,
  type DoneReport,
  type RunSession,
  type RunStartOptions,
} from '../run-common.js';
import type { SearchSummary } from './search.js';

type SearchData = ReturnType<typeof searchBatches>;

/** Runs a search from its raw config (flags applied) and writes its genotype and plots into the run directory. */
export async function searchFromConfig(ctx: CommandContext, options: RunStartOptions, raw: Record<string, unknown>, source: string): Promise<SearchSummary> {
  const { config, runDir, dataset, val } = resolveSearchConfig(ctx, raw, source);
  const data = searchBatches(config, dataset, val);
  const configPath = await startRunDir(runDir, config, options);
  const supernet = new Supernet(config.searchSpace, { seed: config.seed });
  return withRunSession(ctx, options, supernet, async (session) => {
    const end = await followSearch(session, supernet, { config, runDir, data, numClasses: dataset.numClasses, options });
    const results = end.genotype ? await writeSearchResults(runDir, supernet, end.genotype, config.searchSpace) : { genotype: null, plots: {} };
    return {
      runDir,
      config: configPath,
      genotype: results.genotype,
      genotypes: join(runDir, GENOTYPES_DIR),
      metrics: join(runDir, METRICS_FILE),
      checkpoint: end.checkpoint ?? (end.done ? join(runDir, CHECKPOINT_DIR) : null),
      plots: results.plots,
      ...runOutcome(end.done, session.stoppedBy()),
    };
  });
}

/** The parsed config with the defaults that depend on the flags or the data filled in, and its datasets. */
function resolveSearchConfig(ctx: CommandContext, raw: Record<string, unknown>, source: string) {
  const config = parseSearchRunConfig(raw, source);
  const runDir = settleRunDir(config);
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
  return { config, runDir, dataset, val };
}

/** trainA (weights) and trainB (α, β), disjoint parts of the training set of a batch or more each, and the validation batches. */
function searchBatches(config: SearchRunConfig, dataset: Dataset, val: Dataset | undefined) {
  const split = searchSplit(dataset, { seed: config.seed, fraction: config.data.splitFraction });
  const train = (indices: number[], seedOffset: number) =>
    datasetBatchSource(dataset, { indices, ...trainingBatchOptions(config.data, config.seed + seedOffset) });
  const data = {
    trainA: train(split.trainA, 0),
    trainB: train(split.trainB, 1),
    ...(val ? { val: datasetBatchSource(val, evaluationBatchOptions(config.data, config.seed)) } : {}),
  };
  for (const [name, part] of Object.entries({ trainA: data.trainA, trainB: data.trainB })) {
    if (part.batchesPerEpoch < 1) {
      const images = name === 'trainA' ? split.sizes.trainA : split.sizes.trainB;
      throw new UserInputError(
        `${name} has ${images} images, fewer than one batch of ${config.data.batchSize}: use a larger dataset or a smaller --batch-size`,
      );
    }
  }
  return data;
}

/** How a search ended, its latest architecture and its latest checkpoint. */
interface SearchEnd {
  done: DoneReport | undefined;
  genotype: Genotype | undefined;
  checkpoint: string | null;
}

interface SearchSetup {
  config: SearchRunConfig;
  runDir: string;
  data: SearchData;
  numClasses: number;
  options: RunStartOptions;
}

/** Runs the search loop, writing each epoch's genotype as it comes. */
async function followSearch(session: RunSession, supernet: Supernet, setup: SearchSetup): Promise<SearchEnd> {
  const { config, runDir, data, numClasses, options } = setup;
  const end: SearchEnd = { done: undefined, genotype: undefined, checkpoint: null };
  const events = search({
    model: supernet,
    data,
    runDir,
    config: config.search,
    numClasses,
    resume: options.resume ? true : false,
    overwrite: options.overwrite,
    signal: session.signal,
    decode: (_model, at) => decode(supernet, { source: 'search', epoch: at.epoch, step: at.step }),
  });
  end.done = await session.follow(events, async (event) => {
    if (event.type === 'arch' && event.genotype) {
      // Each epoch's genotype, and the latest as the run's genotype (kept when the run stops early).
      end.genotype = event.genotype;
      await writeGenotype(join(runDir, GENOTYPES_DIR, epochGenotypeFile(event.epoch + 1)), event.genotype);
      await writeGenotype(join(runDir, GENOTYPE_FILE), event.genotype);
    }
    if (event.type === 'checkpoint') end.checkpoint = event.path;
    if (event.type === 'done' && event.genotype) end.genotype = event.genotype;
  });
  return end;
}

/** The run's genotype file, and plots of it and of the final α and β. */
async function writeSearchResults(
  runDir: string,
  supernet: Supernet,
  genotype: Genotype,
  searchSpace: SearchRunConfig['searchSpace'],
): Promise<{ genotype: string; plots: Record<string, string> }> {
  const genotypePath = join(runDir, GENOTYPE_FILE);
  await writeGenotype(genotypePath, genotype);
  const alpha = (await supernet.alpha.array()) as number[][];
  const beta = (await supernet.beta.array()) as number[];
  const written = await writePlots(join(runDir, PLOTS_DIR), { genotype, alpha, beta, config: searchSpace });
  return { genotype: genotypePath, plots: { trellis: written.trellis.png, cell: written.cell.png, ...(written.alpha ? { alpha: written.alpha.png } : {}) } };
}
