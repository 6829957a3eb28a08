/** Smoothed seconds per step, for throughput and ETA. */
export class StepTimer {
  private smoothed: number | undefined;
  private last = performance.now();

  /** Call after each step; returns the smoothed seconds per step. */
  tick(): number {
    const t = performance.now();
    const seconds = (t - this.last) / 1000;
    this.last = t;
    this.smoothed = this.smoothed === undefined ? seconds : 0.9 * this.smoothed + 0.1 * seconds;
    return this.smoothed;
  }

  /** Excludes time spent elsewhere (validation, checkpoints) from the next step's measurement. */
  restart(): void {
    this.last = performance.now();
  }
}
