/**
 * The body of `autodeeplab train`, loaded only when a training runs (train.ts stays light for --help):
 * config → genotype and datasets → batches → the network → the training loop → the saved network.
 */
import { join } from 'node:path';
import { UserInputError } from '@autodeeplab/core';
import { parseTrainRunConfig, type TrainRunConfig } from '../config.js';
import { loadGenotype, type Genotype } from '@autodeeplab/genotype';
import { buildNetwork, saveNetwork } from '@autodeeplab/model';
import { METRICS_FILE, NETWORK_DIR, train } from '@autodeeplab/optim';
import { datasetBatchSource, type Dataset } from '@autodeeplab/datasets';
import { note, type CommandContext } from '../context.js';
import { open } from '../open-dataset.js';
import {
  evaluationBatchOptions,
  given,
  preprocessingOf,
  runOutcome,
  settleRunDir,
  startRunDir,
  trainingBatchOptions,
  withRunSession,
  type RunStartOptions,
} from '../run-common.js';
import type { TrainSummary } from './train.js';

/** Trains the network of a genotype from its raw config (flags applied) and saves it into the run directory. */
export async function trainFromConfig(ctx: CommandContext, options: RunStartOptions, raw: Record<string, unknown>, source: string): Promise<TrainSummary> {
  const { config, runDir, genotype, dataset, val } = await resolveTrainConfig(ctx, raw, source);
  const data = trainBatches(config, dataset, val);
  const configPath = await startRunDir(runDir, config, options);
  const network = buildTrainNetwork(genotype, config, dataset.numClasses);
  warnIfStatisticsWillNotSettle(ctx, network.config.batchNormDecay, config.train.steps ?? config.train.epochs * data.train.batchesPerEpoch);
  return withRunSession(ctx, options, network, async (session) => {
    const done = await session.follow(
      train({
        model: network,
        data,
        runDir,
        config: config.train,
        numClasses: dataset.numClasses,
        resume: options.resume ? true : false,
        overwrite: options.overwrite,
        signal: session.signal,
      }),
    );
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
      ...runOutcome(done, session.stoppedBy()),
    };
  });
}

/** The parsed config with the defaults that depend on the flags filled in, its genotype and its datasets. */
async function resolveTrainConfig(ctx: CommandContext, raw: Record<string, unknown>, source: string) {
  const config = parseTrainRunConfig(raw, source);
  const runDir = settleRunDir(config);
  if (!given(raw, 'train.seed')) config.train.seed = config.seed;
  const genotype = await loadGenotype(config.genotype);
  const warn = (line: string) => note(ctx, line);
  const dataset = open(config.dataset, warn);
  if (config.network.numClasses !== undefined && config.network.numClasses !== dataset.numClasses) {
    throw new UserInputError(`${source}: network.numClasses is ${config.network.numClasses} but the dataset ${dataset.name} has ${dataset.numClasses} classes`);
  }
  const val = config.val ? open(config.val, warn) : undefined;
  if ((config.network.dropPathKeepProb ?? 1) < 1 && config.train.workers > 1) {
    throw new UserInputError(`${source}: network.dropPathKeepProb < 1 needs train.workers 1 (the worker threads' copies do not follow the drop-path schedule)`);
  }
  return { config, runDir, genotype, dataset, val };
}

/**
 * BN's moving averages with the official decay 0.9997 reach their batch statistics only after a
 * few thousand steps (1 / (1 − decay) ≈ 3,300); a shorter run evaluates with statistics near their
 * initial values. Says so, with the fix.
 */
function warnIfStatisticsWillNotSettle(ctx: CommandContext, decay: number, totalSteps: number): void {
  const horizon = Math.round(1 / (1 - decay));
  if (totalSteps >= 3 * horizon) return;
  note(
    ctx,
    `warning: network.batchNormDecay ${decay} averages BN statistics over about ${horizon} steps and this run has ${totalSteps}: ` +
      `its running statistics will not settle; for a short run set network.batchNormDecay lower (e.g. --set network.batchNormDecay=0.9)`,
  );
}

/** The training batches (at least one per epoch) and the validation batches. */
function trainBatches(config: TrainRunConfig, dataset: Dataset, val: Dataset | undefined) {
  const trainSource = datasetBatchSource(dataset, trainingBatchOptions(config.data, config.seed));
  if (trainSource.batchesPerEpoch < 1) {
    throw new UserInputError(`the training data has ${dataset.size} images, fewer than one batch of ${config.data.batchSize}`);
  }
  const valSource = val ? datasetBatchSource(val, evaluationBatchOptions(config.data, config.seed)) : undefined;
  return { train: trainSource, ...(valSource ? { val: valSource } : {}) };
}

/** The network of the genotype at the configured size (a preset or explicit options), with the dataset's classes. */
function buildTrainNetwork(genotype: Genotype, config: TrainRunConfig, numClasses: number) {
  const { preset, ...networkOptions } = config.network;
  return buildNetwork(genotype, {
    ...networkOptions,
    ...(preset ? { preset } : {}),
    numClasses,
    seed: config.seed,
  });
}
