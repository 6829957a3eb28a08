export type RunKind = 'search' | 'train';

interface EventBase {
  /** ISO time the event was emitted. */
  time: string;
}

/** Where a run is: `step` updates completed; `epoch` (0-based) and `stepInEpoch` of the last one. */
interface Position {
  epoch: number;
  step: number;
}

export interface StartEvent extends EventBase {
  type: 'start';
  kind: RunKind;
  runDir: string;
  epochs: number;
  stepsPerEpoch: number;
  totalSteps: number;
  /**
   * Present when the run continues from a checkpoint: the step it had reached; `refused`: newer
   * checkpoints that could not be read (newest first, with the problem), which the resume fell back
   * past; `metricsLinesDropped`: lines of metrics.jsonl past that step, cut (they are logged again).
   */
  resumedFrom?: { epoch: number; step: number; checkpoint: string; refused?: { checkpoint: string; reason: string }[]; metricsLinesDropped?: number };
  config: Record<string, unknown>;
}

export interface StepEvent extends EventBase, Position {
  type: 'step';
  kind: RunKind;
  /** 0-based index of the step within its epoch. */
  stepInEpoch: number;
  totalSteps: number;
  /** Weight loss (trainA in a search). */
  loss: number;
  /** Architecture loss (trainB), when α/β were updated at this step. */
  archLoss?: number;
  learningRate: { weights: number; arch?: number };
  /** Global L2 norm of the weight gradient (and of the α/β gradient). */
  gradNorm: { weights: number; arch?: number };
  imagesPerSecond: number;
  secondsPerStep: number;
  etaSeconds: number;
}

export interface EpochEvent extends EventBase, Position {
  type: 'epoch';
  kind: RunKind;
  meanLoss: number;
  meanArchLoss?: number;
  seconds: number;
}

export interface ValidationEvent extends EventBase, Position {
  type: 'validation';
  kind: RunKind;
  mIoU: number;
  pixelAccuracy: number;
  perClassIoU: (number | null)[];
  loss: number;
  pixels: number;
}

/**
 * A snapshot of the architecture parameters (raw logits) and, when the search was given a decoder,
 * the architecture they decode to. `A` is the decoder's result: for Auto-DeepLab a genotype of
 * `@autodeeplab/genotype`, which this package does not need to know.
 */
export interface ArchEvent<A = unknown> extends EventBase, Position {
  type: 'arch';
  parameters: Record<string, { shape: number[]; values: number[] }>;
  genotype?: A;
  /** Why no genotype: the decoder's error message. */
  decodeError?: string;
}

export interface CheckpointEvent extends EventBase, Position {
  type: 'checkpoint';
  kind: RunKind;
  path: string;
  reason: 'interval' | 'epoch' | 'final' | 'interrupt';
  /** Where the same checkpoint was also written as the best validation so far (`keepBest`). */
  best?: string;
}

export interface ErrorEvent extends EventBase, Position {
  type: 'error';
  kind: RunKind;
  message: string;
  /** The checkpoint left in place (the last good one), if any. */
  checkpoint?: string;
}

export interface DoneEvent<A = unknown> extends EventBase, Position {
  type: 'done';
  kind: RunKind;
  /** True when the run stopped early on request (the abort signal); it can be resumed. */
  interrupted: boolean;
  seconds: number;
  /** The search's last decoded architecture (see ArchEvent). */
  genotype?: A;
  validation?: { mIoU: number; pixelAccuracy: number };
}

export type RunEvent<A = unknown> = StartEvent | StepEvent | EpochEvent | ValidationEvent | ArchEvent<A> | CheckpointEvent | ErrorEvent | DoneEvent<A>;
export type SearchEvent<A = unknown> = RunEvent<A>;
export type TrainEvent = Exclude<RunEvent, ArchEvent>;

export function now(): string {
  return new Date().toISOString();
}
