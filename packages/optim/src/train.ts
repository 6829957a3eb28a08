import { z } from 'zod';
import { Rng, UserInputError, parseWithSchema } from '@autodeeplab/core';
import { now, type TrainEvent } from './events.js';
import { EpochReader } from './epoch-reader.js';
import { validate } from './evaluate.js';
import { modelNumClasses, nameVariables } from './named-variables.js';
import { updateOn } from './update.js';
import { runLoop, type StepOutcome } from './loop.js';
import { runControl } from './loop-spec.js';
import { withMetricsLog } from './metrics-log.js';
import { SGD } from './optimizers.js';
import { startLoopWorkers, type GradientWorkerPool } from './parallel/pool.js';
import type { ModelDescriptor } from './parallel/protocol.js';
import { polySchedule } from './schedules.js';
import type { BatchSource, TrainableModel } from './types.js';
import { runConfigFields } from './run-config.js';

/** Hyper-parameters of training a discrete network; defaults follow the paper's Cityscapes training (paper §5.2). */
export const TrainConfigSchema = z
  .object({
    epochs: z.number().int().positive().default(100),
    /** Total updates; when given it overrides `epochs` (the run lasts ceil(steps / steps per epoch) epochs). */
    steps: z.number().int().positive().optional(),
    /** Poly schedule `lr·(1 − t/T)^power`. */
    lr: z.number().positive().default(0.05),
    power: z.number().positive().default(0.9),
    momentum: z.number().min(0).max(1).default(0.9),
    /** (choice) DeepLab's TensorFlow default. */
    weightDecay: z.number().nonnegative().default(4e-5),
    nesterov: z.boolean().default(false),
    warmupSteps: z.number().int().nonnegative().default(0),
    warmupStartFactor: z.number().min(0).max(1).default(0.1),
    clipNorm: z.number().positive().optional(),
    ...runConfigFields(1000),
  })
  .strict();
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;
export type TrainConfig = z.output<typeof TrainConfigSchema>;

export interface TrainOptions {
  /** The network (`buildNetwork(...)` of `@autodeeplab/model`); the caller owns and disposes it. */
  model: TrainableModel;
  data: { train: BatchSource; val?: BatchSource };
  runDir: string;
  config?: TrainConfigInput;
  /** Classes for validation; default `model.config.numClasses`. */
  numClasses?: number;
  resume?: boolean | string;
  overwrite?: boolean;
  signal?: AbortSignal;
  rng?: Rng;
  metricsLog?: boolean;
  /**
   * How worker threads rebuild the network when `config.workers` > 1, e.g.
   * `{ module: '@autodeeplab/model', export: 'buildNetwork', args: [genotype, options] }` (default: the model's own `replica()`).
   */
  replica?: ModelDescriptor;
}

/** Trains a discrete network with SGD and the poly schedule; resumable exactly, like `search`. */
export async function* train(options: TrainOptions): AsyncGenerator<TrainEvent, void, undefined> {
  yield* withMetricsLog(trainEvents(options), options);
}

async function* trainEvents(options: TrainOptions): AsyncGenerator<TrainEvent, void, undefined> {
  const config = parseWithSchema(TrainConfigSchema, options.config ?? {}, 'train config');
  const { model, data } = options;
  const stepsPerEpoch = data.train.batchesPerEpoch;
  if (!(stepsPerEpoch > 0)) throw new UserInputError(`training needs batches: the training data gives ${stepsPerEpoch} per epoch`);
  const numClasses = options.numClasses ?? modelNumClasses(model);
  if (data.val && config.validateEvery > 0 && numClasses === undefined) {
    throw new UserInputError('train: validation needs numClasses (not found in options or model.config)');
  }
  const totalSteps = config.steps ?? config.epochs * stepsPerEpoch;
  const epochs = Math.ceil(totalSteps / stepsPerEpoch);

  const variables = nameVariables(model, model.parameters(), 'parameters');
  const optimizer = new SGD(
    variables,
    { learningRate: config.lr, momentum: config.momentum, weightDecay: config.weightDecay, nesterov: config.nesterov },
    'optim/train/weights',
  );
  const schedule = polySchedule({
    base: config.lr,
    power: config.power,
    total: totalSteps,
    warmup: { steps: config.warmupSteps, startFactor: config.warmupStartFactor },
  });
  const reader = new EpochReader(data.train, 'training data');
  let pool: GradientWorkerPool | undefined;

  try {
    for await (const event of runLoop({
      kind: 'train',
      model,
      ...runControl(options),
      config: config as unknown as Record<string, unknown>,
      mutableKeys: [],
      epochs,
      stepsPerEpoch,
      totalSteps,
      optimizers: { weights: optimizer },
      rng: options.rng ?? new Rng(config.seed),
      checkpointEvery: config.checkpointEvery,
      keepLast: config.keepLast,
      keepBest: config.keepBest,
      async prepare() {
        pool = await startLoopWorkers(model, config.workers, options.replica);
      },
      openEpoch: (epoch, start) => reader.open(epoch, start),
      closeEpoch: () => reader.close(),
      async step({ epoch, index, step }): Promise<StepOutcome> {
        const lr = schedule(step);
        const batch = await reader.next({ epoch, index });
        model.setDropPathProgress?.(step / totalSteps, step);
        const w = await updateOn(model, variables, optimizer, batch, {
          ignoreLabel: config.ignoreLabel,
          learningRate: lr,
          clipNorm: config.clipNorm,
          what: 'training',
          step: step + 1,
          epoch,
          ...(pool ? { compute: (variables, raw, ignoreLabel) => pool!.gradients(variables, raw, ignoreLabel) } : {}),
        });
        return { loss: w.loss, learningRate: { weights: lr }, gradNorm: { weights: w.gradNorm }, images: w.images };
      },
      async *endOfEpoch(epoch, step, report) {
        const last = epoch + 1 >= epochs;
        if (data.val && config.validateEvery > 0 && ((epoch + 1) % config.validateEvery === 0 || last)) {
          const result = await validate(model, data.val, { numClasses: numClasses!, ignoreLabel: config.ignoreLabel });
          report(result.mIoU);
          yield { type: 'validation', time: now(), kind: 'train', epoch, step, ...result };
        }
      },
      finish: async () => ({}),
    })) {
      if (event.type !== 'arch') yield event;
    }
  } finally {
    await pool?.terminate();
    optimizer.dispose();
    await reader.close();
  }
}
