import type { Genotype } from '@autodeeplab/genotype';
import { formatDuration, formatValue } from './format.js';
import type { Progress } from './progress.js';

/**
 * The run events of @autodeeplab/optim that the CLI shows (a structural subset, so that the reporter
 * does not depend on fields it does not print).
 */
export type ReportedEvent =
  | {
      type: 'start';
      kind: string;
      runDir: string;
      epochs: number;
      stepsPerEpoch: number;
      totalSteps: number;
      resumedFrom?: { epoch: number; step: number; checkpoint: string; refused?: { checkpoint: string; reason: string }[] };
    }
  | {
      type: 'step';
      epoch: number;
      step: number;
      totalSteps: number;
      loss: number;
      archLoss?: number;
      learningRate: { weights: number; arch?: number };
      imagesPerSecond: number;
    }
  | { type: 'epoch'; epoch: number; step: number; meanLoss: number; meanArchLoss?: number; seconds: number }
  | { type: 'validation'; epoch: number; mIoU: number; pixelAccuracy: number; loss: number }
  | { type: 'arch'; epoch: number; step: number; genotype?: Genotype; decodeError?: string }
  | { type: 'checkpoint'; step: number; path: string; reason: string }
  | { type: 'error'; step: number; message: string; checkpoint?: string }
  | { type: 'done'; step: number; interrupted: boolean; seconds: number; validation?: { mIoU: number; pixelAccuracy: number } }
  | { type: string };

export function percent(value: number): string {
  return `${(100 * value).toFixed(2)}%`;
}

/** Turns run events into a progress bar (or periodic lines) and one-line summaries, on stderr. */
export class RunReporter {
  private epochs = 0;

  constructor(
    private readonly progress: Progress,
    private readonly options: { verbose?: boolean } = {},
  ) {}

  handle(event: ReportedEvent): void {
    const p = this.progress;
    const e = event as ReportedEvent & Record<string, unknown>;
    switch (event.type) {
      case 'start': {
        const s = e as Extract<ReportedEvent, { type: 'start' }>;
        this.epochs = s.epochs;
        const resumed = s.resumedFrom ? `; resuming at step ${s.resumedFrom.step} from ${s.resumedFrom.checkpoint}` : '';
        p.log(`${s.kind}: ${s.epochs} epoch${s.epochs === 1 ? '' : 's'} × ${s.stepsPerEpoch} steps, run directory ${s.runDir}${resumed}`);
        for (const r of s.resumedFrom?.refused ?? [])
          p.log(`warning: not resuming from ${r.checkpoint}, it is unreadable (${r.reason}); using ${s.resumedFrom!.checkpoint}`);
        p.start(s.kind, s.totalSteps, { start: s.resumedFrom?.step ?? 0 });
        break;
      }
      case 'step': {
        const s = e as Extract<ReportedEvent, { type: 'step' }>;
        p.update(s.step, {
          epoch: `${s.epoch + 1}/${this.epochs}`,
          loss: s.loss,
          ...(s.archLoss !== undefined ? { 'arch loss': s.archLoss } : {}),
          lr: s.learningRate.weights,
          'img/s': Number(s.imagesPerSecond.toFixed(2)),
        });
        break;
      }
      case 'epoch': {
        const s = e as Extract<ReportedEvent, { type: 'epoch' }>;
        const arch = s.meanArchLoss !== undefined ? `, arch loss ${formatValue(s.meanArchLoss)}` : '';
        p.log(`epoch ${s.epoch + 1}/${this.epochs}: loss ${formatValue(s.meanLoss)}${arch} (${formatDuration(s.seconds)})`);
        break;
      }
      case 'validation': {
        const s = e as Extract<ReportedEvent, { type: 'validation' }>;
        p.log(`validation after epoch ${s.epoch + 1}: mIoU ${percent(s.mIoU)}, pixel accuracy ${percent(s.pixelAccuracy)}, loss ${formatValue(s.loss)}`);
        break;
      }
      case 'arch': {
        const s = e as Extract<ReportedEvent, { type: 'arch' }>;
        if (s.genotype) p.log(`architecture after epoch ${s.epoch + 1}: path ${s.genotype.path.join(' ')}`);
        else if (s.decodeError) p.log(`architecture after epoch ${s.epoch + 1}: not decodable (${s.decodeError})`);
        break;
      }
      case 'checkpoint': {
        const s = e as Extract<ReportedEvent, { type: 'checkpoint' }>;
        if (this.options.verbose) p.log(`checkpoint (${s.reason}) at step ${s.step}: ${s.path}`);
        break;
      }
      case 'error': {
        const s = e as Extract<ReportedEvent, { type: 'error' }>;
        p.finish();
        // The error itself is printed once, by the command's error line; here only where the run stands.
        if (s.checkpoint) p.log(`stopped at step ${s.step}; the last good checkpoint is ${s.checkpoint}`);
        break;
      }
      case 'done': {
        const s = e as Extract<ReportedEvent, { type: 'done' }>;
        p.finish();
        p.log(
          s.interrupted
            ? `interrupted at step ${s.step} after ${formatDuration(s.seconds)}; continue with --resume`
            : `done: ${s.step} steps in ${formatDuration(s.seconds)}`,
        );
        break;
      }
      default:
        break;
    }
  }
}
