import { z } from 'zod';

/** A learning rate as a function of the step (0-based count of updates already applied). */
export type LearningRateSchedule = (step: number) => number;

export const WarmupSchema = z.object({
  /** Steps of linear warm-up. */
  steps: z.number().int().nonnegative(),
  /** Factor of the schedule's rate at step 0; rises linearly to 1 at `steps`. */
  startFactor: z.number().min(0).max(1).default(0.1),
});
export type Warmup = z.input<typeof WarmupSchema>;

/** Cosine annealing from `max` at step 0 to `min` at `total`: `min + (max − min)·(1 + cos(π·t/T))/2`. */
export function cosineSchedule(options: { max: number; min: number; total: number; warmup?: Warmup }): LearningRateSchedule {
  const { max, min, total } = options;
  assertTotal(total, 'cosine');
  const base = (step: number) => min + ((max - min) * (1 + Math.cos((Math.PI * clampStep(step, total)) / total))) / 2;
  return withWarmup(base, options.warmup);
}

/** Polynomial decay ("poly") from `base` to 0 at `total`: `base·(1 − t/T)^power`. */
export function polySchedule(options: { base: number; total: number; power?: number; warmup?: Warmup }): LearningRateSchedule {
  const { base: lr, total } = options;
  const power = options.power ?? 0.9;
  assertTotal(total, 'poly');
  const base = (step: number) => lr * Math.pow(1 - clampStep(step, total) / total, power);
  return withWarmup(base, options.warmup);
}

export function constantSchedule(lr: number): LearningRateSchedule {
  return () => lr;
}

/**
 * Linear warm-up as a factor on the schedule: `factor(t) = s + (1 − s)·t/W` for t < W, 1 after.
 * Multiplying (rather than replacing) keeps the rate continuous at t = W.
 */
export function withWarmup(schedule: LearningRateSchedule, warmup: Warmup | undefined): LearningRateSchedule {
  if (!warmup || warmup.steps === 0) return schedule;
  const { steps, startFactor } = WarmupSchema.parse(warmup);
  return (step) => (step < steps ? startFactor + ((1 - startFactor) * step) / steps : 1) * schedule(step);
}

function clampStep(step: number, total: number): number {
  return Math.min(Math.max(step, 0), total);
}

function assertTotal(total: number, kind: string): void {
  if (!(Number.isInteger(total) && total > 0)) throw new Error(`${kind} schedule: total steps must be a positive integer, found ${total}`);
}
