import type { Rng } from '@autodeeplab/core';
import type { DoneEvent, RunEvent, RunKind } from './events.js';
import type { Optimizer } from './optimizers.js';
import type { TrainableModel } from './types.js';

/** What one step reports back to the loop. */
export interface StepOutcome {
  loss: number;
  archLoss?: number;
  learningRate: { weights: number; arch?: number };
  gradNorm: { weights: number; arch?: number };
  images: number;
}

/** Loss sums of one epoch, for its mean losses. */
export interface EpochStats {
  lossSum: number;
  archLossSum: number;
  steps: number;
  archSteps: number;
}

/** Where a run is: the batch the next step reads (`epoch`, `index` in that epoch) and the updates done. */
export interface LoopCursor {
  epoch: number;
  index: number;
  step: number;
}

/** The parts that differ between the search and the training loop (`A`: the architecture a search decodes). */
export interface LoopSpec<A = unknown> {
  kind: RunKind;
  model: TrainableModel;
  runDir: string;
  /** true: continue from `<runDir>/checkpoint`; a string: from that checkpoint (or run) directory. */
  resume: boolean | string;
  /** Start afresh even when `<runDir>` already holds a checkpoint (it is replaced at the first save). */
  overwrite: boolean;
  /** The events go to `<runDir>/metrics.jsonl` (a resume then cuts it back to the checkpoint's step). */
  metricsLog: boolean;
  signal: AbortSignal | undefined;
  /** Parsed configuration, stored in checkpoints and compared on resume. */
  config: Record<string, unknown>;
  /** Config keys that may change between the interrupted and the resumed run. */
  mutableKeys: readonly string[];
  epochs: number;
  stepsPerEpoch: number;
  totalSteps: number;
  optimizers: Readonly<Record<string, Optimizer>>;
  rng: Rng;
  checkpointEvery: number;
  keepLast: number;
  /** Keep the checkpoint of the best validation in `checkpoint-best/`. */
  keepBest: boolean;
  /** Runs once after the start event, before the first step (e.g. starting gradient workers); failures end the run with an error event. */
  prepare?(): Promise<void>;
  /** Prepares the batch readers of an epoch, starting at batch `start`. */
  openEpoch(epoch: number, start: number): void;
  closeEpoch(): Promise<void>;
  /** One update (or a weight and an architecture update) at global step `step` (updates done so far). */
  step(position: { epoch: number; index: number; step: number }): Promise<StepOutcome>;
  /** Events at the end of an epoch (validation, α/β snapshots); may report a validation mIoU. */
  endOfEpoch(epoch: number, step: number, report: (mIoU: number) => void): AsyncIterable<RunEvent<A>>;
  /** Extra fields for the done event. */
  finish(): Promise<Partial<DoneEvent<A>>>;
}

/** What the caller of search or train says about the run itself, as the loop takes it. */
export interface RunControlOptions {
  runDir: string;
  resume?: boolean | string;
  overwrite?: boolean;
  signal?: AbortSignal;
  metricsLog?: boolean;
}

/** The loop's run-control fields from a search's or a training's options (defaults: no resume, no overwrite, a metrics log). */
export function runControl(options: RunControlOptions): Pick<LoopSpec<unknown>, 'runDir' | 'resume' | 'overwrite' | 'signal' | 'metricsLog'> {
  return {
    runDir: options.runDir,
    resume: options.resume ?? false,
    overwrite: options.overwrite ?? false,
    signal: options.signal,
    metricsLog: options.metricsLog !== false,
  };
}
