import type * as tf from '@tensorflow/tfjs';
import { Rng, UserInputError } from '@autodeeplab/core';
import { validate } from './evaluate.js';
import { EpochReader } from './epoch-reader.js';
import { now, type ArchEvent, type RunEvent } from './events.js';
import type { LoopSpec, StepOutcome } from './loop.js';
import { runControl } from './loop-spec.js';
import { modelNumClasses, nameVariables } from './named-variables.js';
import { Adam, SGD } from './optimizers.js';
import { startLoopWorkers, type GradientWorkerPool } from './parallel/pool.js';
import { cosineSchedule } from './schedules.js';
import type { DecodePoint, SearchConfig, SearchOptions } from './search.js';
import type { Batch } from './types.js';
import { updateOn } from './update.js';

/** The length of a search, and the classes its validation counts. */
export interface SearchPlan {
  stepsPerEpoch: number;
  totalSteps: number;
  numClasses: number | undefined;
}

/** Checks that the data and the model can carry a search, before anything is allocated. */
export function planSearch(options: SearchOptions<unknown>, config: SearchConfig): SearchPlan {
  const { model, data } = options;
  const stepsPerEpoch = Math.min(data.trainA.batchesPerEpoch, data.trainB.batchesPerEpoch);
  if (!(stepsPerEpoch > 0)) {
    throw new UserInputError(`search needs batches: trainA gives ${data.trainA.batchesPerEpoch} and trainB ${data.trainB.batchesPerEpoch} per epoch`);
  }
  const numClasses = options.numClasses ?? modelNumClasses(model);
  if (data.val && config.validateEvery > 0 && numClasses === undefined) {
    throw new UserInputError('search: validation needs numClasses (not found in options or model.config)');
  }
  return { stepsPerEpoch, totalSteps: config.epochs * stepsPerEpoch, numClasses };
}

/**
 * One bilevel search as the hooks of the shared loop: the weight and architecture optimisers, the
 * trainA / trainB readers, the gradient workers and the last decoded architecture. Owns what it
 * allocates until `dispose`.
 */
export class BilevelSearch<A> {
  private readonly weightVars: ReadonlyMap<string, tf.Variable>;
  private readonly archVars: ReadonlyMap<string, tf.Variable>;
  private readonly weightOptimizer: SGD;
  private readonly archOptimizer: Adam;
  private readonly weightLr: (step: number) => number;
  private readonly readerA: EpochReader;
  private readonly readerB: EpochReader;
  private readonly decodeNow: (at: DecodePoint) => A | undefined;
  private genotype: A | undefined;
  private pool: GradientWorkerPool | undefined;
  private readonly compute = (variables: ReadonlyMap<string, tf.Variable>, raw: Batch, ignoreLabel: number) =>
    this.pool!.gradients(variables, raw, ignoreLabel);

  constructor(
    private readonly options: SearchOptions<A>,
    private readonly config: SearchConfig,
    private readonly plan: SearchPlan,
  ) {
    const { model, data } = options;
    this.weightVars = nameVariables(model, model.weightParameters(), 'weight parameters');
    this.archVars = nameVariables(model, model.archParameters(), 'architecture parameters');
    for (const path of this.archVars.keys()) {
      if (this.weightVars.has(path)) throw new Error(`parameter '${path}' is both a weight and an architecture parameter`);
    }
    const { weightLr, momentum, weightDecay, archLr, archBeta1, archBeta2, archEpsilon, archWeightDecay } = config;
    this.weightOptimizer = new SGD(this.weightVars, { learningRate: weightLr, momentum, weightDecay }, 'optim/search/weights');
    this.archOptimizer = new Adam(
      this.archVars,
      { learningRate: archLr, beta1: archBeta1, beta2: archBeta2, epsilon: archEpsilon, weightDecay: archWeightDecay },
      'optim/search/arch',
    );
    this.weightLr = cosineSchedule({
      max: weightLr,
      min: config.weightLrMin,
      total: plan.totalSteps,
      warmup: { steps: config.warmupSteps, startFactor: config.warmupStartFactor },
    });
    this.readerA = new EpochReader(data.trainA, 'trainA');
    this.readerB = new EpochReader(data.trainB, 'trainB');
    const decode = options.decode;
    this.decodeNow = decode ? (at) => decode(model, at) : () => undefined;
  }

  /** The loop's view of this search. */
  loopSpec(): LoopSpec<A> {
    const { options, config, plan } = this;
    return {
      kind: 'search',
      model: options.model,
      ...runControl(options),
      config: config as unknown as Record<string, unknown>,
      mutableKeys: [],
      epochs: config.epochs,
      stepsPerEpoch: plan.stepsPerEpoch,
      totalSteps: plan.totalSteps,
      optimizers: { weights: this.weightOptimizer, arch: this.archOptimizer },
      rng: options.rng ?? new Rng(config.seed),
      checkpointEvery: config.checkpointEvery,
      keepLast: config.keepLast,
      keepBest: config.keepBest,
      prepare: async () => {
        this.pool = await startLoopWorkers(options.model, config.workers, options.replica);
      },
      openEpoch: (epoch, start) => this.openEpoch(epoch, start),
      closeEpoch: async () => {
        await Promise.all([this.readerA.close(), this.readerB.close()]);
      },
      step: (position) => this.step(position),
      endOfEpoch: (epoch, step, report) => this.endOfEpoch(epoch, step, report),
      finish: () => this.finish(),
    };
  }

  /** Frees the optimisers' slots, the workers and the readers; the model stays the caller's. */
  async dispose(): Promise<void> {
    await this.pool?.terminate();
    this.weightOptimizer.dispose();
    this.archOptimizer.dispose();
    await Promise.all([this.readerA.close(), this.readerB.close()]);
  }

  private openEpoch(epoch: number, start: number): void {
    this.readerA.open(epoch, start);
    // trainB is only read once the architecture trains.
    if (epoch >= this.config.archStartEpoch) this.readerB.open(epoch, start);
  }

  /** A weight update on trainA, then (from `archStartEpoch` on) an architecture update on trainB (paper §4.2). */
  private async step({ epoch, index, step }: { epoch: number; index: number; step: number }): Promise<StepOutcome> {
    const { model } = this.options;
    const { config } = this;
    const lr = this.weightLr(step);
    const common = { ignoreLabel: config.ignoreLabel, step: step + 1, epoch, ...(this.pool ? { compute: this.compute } : {}) };
    const a = await this.readerA.next({ epoch, index });
    const w = await updateOn(model, this.weightVars, this.weightOptimizer, a, { ...common, learningRate: lr, clipNorm: config.clipNorm, what: 'weight' });
    if (epoch < config.archStartEpoch) return { loss: w.loss, learningRate: { weights: lr }, gradNorm: { weights: w.gradNorm }, images: w.images };
    const b = await this.readerB.next({ epoch, index });
    const arch = await updateOn(model, this.archVars, this.archOptimizer, b, { ...common, learningRate: config.archLr, what: 'architecture' });
    return {
      loss: w.loss,
      archLoss: arch.loss,
      learningRate: { weights: lr, arch: config.archLr },
      gradNorm: { weights: w.gradNorm, arch: arch.gradNorm },
      images: w.images + arch.images,
    };
  }

  private async *endOfEpoch(epoch: number, step: number, report: (mIoU: number) => void): AsyncGenerator<RunEvent<A>, void, undefined> {
    const { model, data } = this.options;
    const { config } = this;
    const last = epoch + 1 >= config.epochs;
    if (data.val && config.validateEvery > 0 && ((epoch + 1) % config.validateEvery === 0 || last)) {
      const result = await validate(model, data.val, { numClasses: this.plan.numClasses!, ignoreLabel: config.ignoreLabel });
      report(result.mIoU);
      yield { type: 'validation', time: now(), kind: 'search', epoch, step, ...result };
    }
    const snapshot = await archSnapshot(this.archVars, () => this.decodeNow({ epoch, step }), { epoch, step });
    // A failed decoding keeps the last architecture for the done event.
    if (snapshot.genotype !== undefined || snapshot.decodeError === undefined) this.genotype = snapshot.genotype;
    yield snapshot;
  }

  private async finish(): Promise<{ genotype?: A }> {
    if (this.genotype === undefined) {
      try {
        this.genotype = this.decodeNow({ epoch: this.config.epochs - 1, step: this.plan.totalSteps });
      } catch {
        // Already reported by the last arch event.
      }
    }
    return this.genotype !== undefined ? { genotype: this.genotype } : {};
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
