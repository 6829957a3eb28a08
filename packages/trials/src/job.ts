/** What a trial's job carries: everything a worker on any machine needs to run it. */
export interface TrialJobData {
  id: string;
  seed: number;
  point: Record<string, unknown>;
  /** The trial's full search config (raw fields, validated by whoever enqueued it); the worker sets runDir. */
  config: Record<string, unknown>;
  /** Where the config came from, for error messages. */
  source: string;
}

/** What a worker reports through job.updateProgress, read from the trial's metrics.jsonl. */
export interface TrialProgress {
  /** Epochs completed. */
  epoch: number;
  epochs: number;
  step: number;
  totalSteps: number;
  /** The latest validation mIoU, if the trial validated yet. */
  mIoU: number | null;
  /** Validation mIoU per epoch (index: epoch − 1; null where the epoch was not validated): the trial's curve. */
  history: (number | null)[];
  /** The step the latest (re)start resumed from, if it resumed. */
  resumedFrom: number | null;
}

/** A finished trial's job result. */
export interface TrialResult {
  mIoU: number | null;
  steps: number;
}
