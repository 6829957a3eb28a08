import { z } from 'zod';
import { parseWithSchema, type Rng } from '@autodeeplab/core';
import type { SearchEvent } from './events.js';
import { runLoop } from './loop.js';
import { withMetricsLog } from './metrics-log.js';
import type { ModelDescriptor } from './parallel/protocol.js';
import { runConfigFields } from './run-config.js';
import { BilevelSearch, planSearch } from './search-steps.js';
import type { BatchSource, SearchableModel } from './types.js';

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
  const run = new BilevelSearch(options, config, planSearch(options, config));
  try {
    yield* runLoop(run.loopSpec());
  } finally {
    await run.dispose();
  }
}
