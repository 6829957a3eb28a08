import type { OutputStream } from './io.js';
import { formatDuration, formatValue } from './format.js';

export interface ProgressOptions {
  /** Where to draw (stderr: stdout stays clean for `--json` data). */
  stream: OutputStream;
  /** Draw a bar redrawn in place (a terminal) or print plain periodic lines (CI, files). Default: `stream.isTTY`. */
  tty?: boolean;
  /** Plain mode: at most one line per this many milliseconds (the last step is always printed). */
  logIntervalMs?: number;
  /** TTY mode: at most one redraw per this many milliseconds. */
  redrawIntervalMs?: number;
  /** Clock in milliseconds (tests inject one). */
  now?: () => number;
}

export type ProgressFields = Record<string, number | string | undefined>;

/**
 * A small progress renderer: one bar at a time with step, fields such as loss, rate and ETA. On a
 * terminal the bar is redrawn in place and log lines are printed above it; elsewhere it prints a plain
 * line every `logIntervalMs`.
 */
export class Progress {
  private readonly stream: OutputStream;
  private readonly tty: boolean;
  private readonly logIntervalMs: number;
  private readonly redrawIntervalMs: number;
  private readonly now: () => number;

  private label = '';
  private total = 0;
  private unit = 'step';
  private current = 0;
  private firstCount = 0;
  private startedAt = 0;
  private fields: ProgressFields = {};
  private lastDrawAt = -Infinity;
  private lastPrinted = 0;
  private barVisible = false;
  private active = false;
  /** Other displays that show the same (the run's plain-text log file). */
  private readonly copies: Progress[] = [];

  constructor(options: ProgressOptions) {
    this.stream = options.stream;
    this.tty = options.tty ?? Boolean(options.stream.isTTY);
    this.logIntervalMs = options.logIntervalMs ?? 10_000;
    this.redrawIntervalMs = options.redrawIntervalMs ?? 100;
    this.now = options.now ?? (() => performance.now());
  }

  /** Also shows from now on everything this one shows on `copy` (e.g. a plain one writing a log file), the current bar included. */
  addCopy(copy: Progress): void {
    this.copies.push(copy);
    if (this.active) copy.start(this.label, this.total, { unit: this.unit, start: this.current });
  }

  /** Starts a bar of `total` units; `start` > 0 when resuming (the rate counts only new work). */
  start(label: string, total: number, options: { unit?: string; start?: number } = {}): void {
    if (this.active) this.finish();
    for (const copy of this.copies) copy.start(label, total, options);
    this.label = label;
    this.total = Math.max(0, total);
    this.unit = options.unit ?? 'step';
    this.current = options.start ?? 0;
    this.firstCount = this.current;
    this.startedAt = this.now();
    this.fields = {};
    this.lastDrawAt = -Infinity;
    this.lastPrinted = this.current;
    this.active = true;
    if (this.tty) this.draw();
  }

  /** Sets the position and the fields shown (loss, lr, …); draws when due. */
  update(current: number, fields: ProgressFields = {}): void {
    for (const copy of this.copies) copy.update(current, fields);
    if (!this.active) return;
    this.current = current;
    this.fields = { ...this.fields, ...fields };
    const now = this.now();
    const last = this.total > 0 && current >= this.total;
    if (this.tty) {
      if (last || now - this.lastDrawAt >= this.redrawIntervalMs) this.draw();
    } else if (last || now - this.lastDrawAt >= this.logIntervalMs) {
      this.stream.write(`${this.plainLine()}\n`);
      this.lastDrawAt = now;
      this.lastPrinted = current;
    }
  }

  /** Prints a line (an epoch summary, a warning) without breaking the bar. */
  log(line: string): void {
    for (const copy of this.copies) copy.log(line);
    if (this.tty && this.barVisible) {
      this.stream.write(`\r\x1b[2K${line}\n`);
      this.barVisible = false;
      if (this.active) this.draw();
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the current bar, leaving its last state on screen (TTY) or printing it (plain) if not yet shown. */
  finish(): void {
    for (const copy of this.copies) copy.finish();
    if (!this.active) return;
    if (this.tty) {
      this.draw();
      this.stream.write('\n');
      this.barVisible = false;
    } else if (this.current !== this.lastPrinted) {
      this.stream.write(`${this.plainLine()}\n`);
    }
    this.active = false;
  }

  /** Units per second since `start`. */
  rate(): number {
    const seconds = (this.now() - this.startedAt) / 1000;
    const done = this.current - this.firstCount;
    return seconds > 0 && done > 0 ? done / seconds : 0;
  }

  /** Seconds left at the current rate, or undefined while unknown. */
  eta(): number | undefined {
    const rate = this.rate();
    if (rate <= 0 || this.total <= 0) return undefined;
    return Math.max(0, this.total - this.current) / rate;
  }

  private describe(): string[] {
    const parts: string[] = [];
    for (const [key, value] of Object.entries(this.fields)) {
      if (value !== undefined) parts.push(`${key} ${formatValue(value)}`);
    }
    const rate = this.rate();
    if (rate > 0) parts.push(rate >= 1 ? `${rate.toFixed(2)} ${this.unit}/s` : `${(1 / rate).toFixed(2)} s/${this.unit}`);
    const eta = this.eta();
    parts.push(`ETA ${eta === undefined ? '?' : formatDuration(eta)}`);
    return parts;
  }

  private counter(): string {
    return this.total > 0 ? `${this.current}/${this.total}` : String(this.current);
  }

  /** `search epoch 3/40 step 12/100 (12%) loss 0.53 1.2 step/s ETA 1m20s` */
  plainLine(): string {
    const percent = this.total > 0 ? ` (${Math.floor((100 * this.current) / this.total)}%)` : '';
    return [`${this.label} ${this.unit} ${this.counter()}${percent}`, ...this.describe()].join('  ');
  }

  /** `search [#########-----------] 12/100 loss 0.53 …`, cut to the terminal width. */
  barLine(): string {
    const width = this.stream.columns ?? 80;
    const tail = `${this.counter()}  ${this.describe().join('  ')}`;
    const barWidth = Math.max(10, Math.min(30, width - this.label.length - tail.length - 6));
    const fraction = this.total > 0 ? Math.min(1, this.current / this.total) : 0;
    const filled = Math.round(fraction * barWidth);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
    const line = `${this.label} ${bar} ${tail}`;
    return line.length > width - 1 ? line.slice(0, width - 1) : line;
  }

  private draw(): void {
    this.stream.write(`\r\x1b[2K${this.barLine()}`);
    this.barVisible = true;
    this.lastDrawAt = this.now();
  }
}
