import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { Rng, UserInputError, parseWithSchema } from '@autodeeplab/core';
import { validate } from './evaluate.js';
import { EpochReader } from './epoch-reader.js';
import { now, type ArchEvent, type SearchEvent } from './events.js';
import { runLoop, type StepOutcome } from './loop.js';
import { withMetricsLog } from './metrics-log.js';
import { modelNumClasses, nameVariables } from './named-variables.js';
import { Adam, SGD } from './optimizers.js';
import { startLoopWorkers, type GradientWorkerPool } from './parallel/pool.js';
import type { ModelDescriptor } from './parallel/protocol.js';
import { runConfigFields } from './run-config.js';
import { cosineSchedule } from './schedules.js';
import type { Batch, BatchSource, SearchableModel } from './types.js';
import { updateOn } from './update.js';

/** Hyper-parameters of the search; the defaults are the paper's (paper §5.1). */
export const SearchConfigSchema = z
  .object({
    epochs: z.number().int().positive().default(40),
    /** α and β are updated from this epoch (0-based) on; before it only the weights train. */
    archStartEpoch: z.number().int().nonnegative().default(20),
    /** Weights: SGD with momentum, cosine schedule from `weightLr` down to `weightLrMin`. */
    weightLr: z.number().positive().default(0.025),
    weightLrMin: z.number().nonnegative().default(0.001),
    momentum: z.number().min(0).max(1).default(0.9),
    weightDecay: z.number().nonnegative().default(3e-4),
    /** Linear warm-up steps on the weight learning rate (0 = none). */
    warmupSteps: z.number().int().nonnegative().default(0),
    warmupStartFactor: z.number().min(0).max(1).default(0.1),
    /** Rescale weight gradients whose global norm exceeds this (choice: off by default). */
    clipNorm: z.number().positive().optional(),
    /** Architecture: Adam with L2 weight decay. */
    archLr: z.number().positive().default(3e-3),
    archWeightDecay: z.number().nonnegative().default(1e-3),
    archBeta1: z.number().min(0).max(1).default(0.9),
    archBeta2: z.number().min(0).max(1).default(0.999),
    archEpsilon: z.number().positive().default(1e-8),
    ...runConfigFields(500),
  })
  .strict()
  .refine((c) => c.weightLrMin <= c.weightLr, { message: 'weightLrMin must not exceed weightLr', path: ['weightLrMin'] });
export type SearchConfigInput = z.input<typeof SearchConfigSchema>;
export type SearchConfig = z.output<typeof SearchConfigSchema>;

/** Where an architecture is decoded: after epoch `epoch` (0-based), `step` updates done. */
export interface DecodePoint {
  epoch: number;
  step: number;
}

/** `A`: what `decode` returns (for Auto-DeepLab a genotype); the events carry it as `genotype`. */
export interface SearchOptions<A = unknown> {
  /** The supernet (`new Supernet(...)` of `@autodeeplab/search-space`); the caller owns and disposes it. */
  model: SearchableModel;
  data: {
    /** Batches for the weight updates. */
    trainA: BatchSource;
    /** Batches for the α/β updates (disjoint from trainA). */
    trainB: BatchSource;
    /** Validation batches (mIoU per epoch). */
    val?: BatchSource;
  };
  /** Run directory: `checkpoint/`, `checkpoints/`, `metrics.jsonl` (see run-dir.ts). */
  runDir: string;
  config?: SearchConfigInput;
  /** Classes for validation; default `model.config.numClasses`. */
  numClasses?: number;
  /** true: continue from `<runDir>/checkpoint`; a path: from that checkpoint or run directory. */
  resume?: boolean | string;
  /** Start afresh although `runDir` holds a checkpoint. */
  overwrite?: boolean;
  /** Stops at the next step boundary with a checkpoint (a resumable, interrupted run). */
  signal?: AbortSignal;
  /** A random stream the model also draws from (e.g. drop-path); saved in checkpoints. Default `new Rng(seed)`. */
  rng?: Rng;
  /**
   * The architecture of the current α/β (e.g. `decode` of `@autodeeplab/decode`), a JSON-able value
   * put into each epoch's `arch` event and the `done` event; without it the events carry α/β only.
   * Writing it to files is the caller's (the command line writes `genotype.json` from the events).
   */
  decode?: (model: SearchableModel, at: DecodePoint) => A | undefined;
  /** Write every event to `<runDir>/metrics.jsonl` (default true). */
  metricsLog?: boolean;
  /** How worker threads rebuild the model when `config.workers` > 1 (default: the model's own `replica()`). */
  replica?: ModelDescriptor;
}

/**
 * The first-order bilevel search (paper §4.2). Each step: an SGD update of the weights on a trainA
 * batch; from `archStartEpoch` on, then an Adam update of α and β on a trainB batch. Per epoch:
 * validation mIoU, an α/β snapshot with its decoded architecture, a checkpoint. Resumable exactly.
 */
export async function* search<A = unknown>(options: SearchOptions<A>): AsyncGenerator<SearchEvent<A>, void, undefined> {
  yield* withMetricsLog(searchEvents(options), options);
}

async function* searchEvents<A>(options: SearchOptions<A>): AsyncGenerator<SearchEvent<A>, void, undefined> {
  const config = parseWithSchema(SearchConfigSchema, options.config ?? {}, 'search config');
  const { model, data } = options;
  const stepsPerEpoch = Math.min(data.trainA.batchesPerEpoch, data.trainB.batchesPerEpoch);
  if (!(stepsPerEpoch > 0)) {
    throw new UserInputError(`search needs batches: trainA gives ${data.trainA.batchesPerEpoch} and trainB ${data.trainB.batchesPerEpoch} per epoch`);
  }
  const numClasses = options.numClasses ?? modelNumClasses(model);
  if (data.val && config.validateEvery > 0 && numClasses === undefined) {
    throw new UserInputError('search: validation needs numClasses (not found in options or model.config)');
  }
  const totalSteps = config.epochs * stepsPerEpoch;

  const weightVars = nameVariables(model, model.weightParameters(), 'weight parameters');
  const archVars = nameVariables(model, model.archParameters(), 'architecture parameters');
  for (const path of archVars.keys()) {
    if (weightVars.has(path)) throw new Error(`parameter '${path}' is both a weight and an architecture parameter`);
  }
  const weightOptimizer = new SGD(
    weightVars,
    { learningRate: config.weightLr, momentum: config.momentum, weightDecay: config.weightDecay },
    'optim/search/weights',
  );
  const archOptimizer = new Adam(
    archVars,
    { learningRate: config.archLr, beta1: config.archBeta1, beta2: config.archBeta2, epsilon: config.archEpsilon, weightDecay: config.archWeightDecay },
    'optim/search/arch',
  );
  const weightLr = cosineSchedule({
    max: config.weightLr,
    min: config.weightLrMin,
    total: totalSteps,
    warmup: { steps: config.warmupSteps, startFactor: config.warmupStartFactor },
  });
  const readerA = new EpochReader(data.trainA, 'trainA');
  const readerB = new EpochReader(data.trainB, 'trainB');
  const decodeNow = options.decode ?? (() => undefined);
  let genotype: A | undefined;
  let pool: GradientWorkerPool | undefined;
  const compute = (variables: ReadonlyMap<string, tf.Variable>, raw: Batch, ignoreLabel: number) => pool!.gradients(variables, raw, ignoreLabel);

  try {
    yield* runLoop({
      kind: 'search',
      model,
      runDir: options.runDir,
      resume: options.resume ?? false,
      overwrite: options.overwrite ?? false,
      signal: options.signal,
      config: config as unknown as Record<string, unknown>,
      mutableKeys: [],
      epochs: config.epochs,
      stepsPerEpoch,
      totalSteps,
      optimizers: { weights: weightOptimizer, arch: archOptimizer },
      rng: options.rng ?? new Rng(config.seed),
      checkpointEvery: config.checkpointEvery,
      keepLast: config.keepLast,
      async prepare() {
        pool = await startLoopWorkers(model, config.workers, options.replica);
      },
      openEpoch(epoch, start) {
        readerA.open(epoch, start);
        // trainB is only read once the architecture trains.
        if (epoch >= config.archStartEpoch) readerB.open(epoch, start);
      },
      async closeEpoch() {
        await Promise.all([readerA.close(), readerB.close()]);
      },
      async step({ epoch, index, step }): Promise<StepOutcome> {
        const lr = weightLr(step);
        const common = { ignoreLabel: config.ignoreLabel, step: step + 1, epoch, ...(pool ? { compute } : {}) };
        const a = await readerA.next({ epoch, index });
        const w = await updateOn(model, weightVars, weightOptimizer, a, { ...common, learningRate: lr, clipNorm: config.clipNorm, what: 'weight' });
        if (epoch < config.archStartEpoch) return { loss: w.loss, learningRate: { weights: lr }, gradNorm: { weights: w.gradNorm }, images: w.images };
        const b = await readerB.next({ epoch, index });
        const arch = await updateOn(model, archVars, archOptimizer, b, { ...common, learningRate: config.archLr, what: 'architecture' });
        return {
          loss: w.loss,
          archLoss: arch.loss,
          learningRate: { weights: lr, arch: config.archLr },
          gradNorm: { weights: w.gradNorm, arch: arch.gradNorm },
          images: w.images + arch.images,
        };
      },
      async *endOfEpoch(epoch, step, report) {
        const last = epoch + 1 >= config.epochs;
        if (data.val && config.validateEvery > 0 && ((epoch + 1) % config.validateEvery === 0 || last)) {
          const result = await validate(model, data.val, { numClasses: numClasses!, ignoreLabel: config.ignoreLabel });
          report(result.mIoU);
          yield { type: 'validation', time: now(), kind: 'search', epoch, step, ...result };
        }
        const snapshot = await archSnapshot(archVars, () => decodeNow(model, { epoch, step }), { epoch, step });
        // A failed decoding keeps the last architecture for the done event.
        if (snapshot.genotype !== undefined || snapshot.decodeError === undefined) genotype = snapshot.genotype;
        yield snapshot;
      },
      async finish() {
        if (genotype === undefined) {
          try {
            genotype = decodeNow(model, { epoch: config.epochs - 1, step: totalSteps });
          } catch {
            // Already reported by the last arch event.
          }
        }
        return genotype !== undefined ? { genotype } : {};
      },
    });
  } finally {
    await pool?.terminate();
    weightOptimizer.dispose();
    archOptimizer.dispose();
    await Promise.all([readerA.close(), readerB.close()]);
  }
}

/** The α/β values at an epoch's end, with the caller's decoding of them (or why it failed). */
async function archSnapshot<A>(archVars: ReadonlyMap<string, tf.Variable>, decode: () => A | undefined, at: DecodePoint): Promise<ArchEvent<A>> {
  const snapshot: ArchEvent<A> = { type: 'arch', time: now(), epoch: at.epoch, step: at.step, parameters: {} };
  for (const [path, v] of archVars) snapshot.parameters[path] = { shape: [...v.shape], values: Array.from(await v.data()) };
  try {
    const architecture = decode();
    if (architecture !== undefined) snapshot.genotype = architecture;
  } catch (error) {
    snapshot.decodeError = error instanceof Error ? error.message : String(error);
  }
  return snapshot;
}
