import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { printJson, printLine } from '../io.js';
import { addCommonOptions, examples, type CommonOptions } from '../options.js';

interface ReportFlags extends CommonOptions {
  out?: string;
}

/** A trials store's report: one chart of every trial's curve, and the table of trials with the best marked. */
async function reportStore(ctx: CommandContext, storeDir: string, options: ReportFlags): Promise<void> {
  const { writeStoreReport } = await import('../report/write-store-report.js');
  const written = await writeStoreReport(storeDir, options.out);
  if (options.json) return printJson(ctx.io, written);
  const best = written.trials.find((t) => t.id === written.best);
  const bestText = best ? `best ${best.id} (validation mIoU ${(100 * best.lastEpochMIoU!).toFixed(2)}% at its last epoch)` : 'no trial at its last epoch yet';
  printLine(ctx.io, `trials store: ${written.trials.length} trial(s), ${bestText}`);
  printLine(ctx.io, `report: ${written.path}`);
}

export function registerReport(program: Command, ctx: CommandContext): void {
  const command = program
    .command('report')
    .argument('<run-dir>', 'the run directory of a search or a training (finished or still running), or a trials store (--store of autodeeplab trials)')
    .description(
      'write an HTML report of a run: loss, learning rate, validation, per-class IoU; for a search the trellis, α and the cell per epoch; for a trials store every trial’s validation per epoch and the best trial',
    )
    .option('-o, --out <file>', 'where to write the report (default: <run-dir>/report.html)')
    .addHelpText(
      'after',
      examples([
        'autodeeplab report runs/search-1',
        'autodeeplab report runs/adl-s --out adl-s.html',
        'autodeeplab report runs/search-1 --json',
        'autodeeplab report /shared/trials',
      ]) +
        '\nOne self-contained file (scripts and data inline; opens from disk, no server or network). It reads\n' +
        'metrics.jsonl as it is, so it can be regenerated while the run is going.\n' +
        'Given a trials store (a folder of trials’ run directories, <store>/<trial-id>/), it reports the trials\n' +
        'instead: validation mIoU per epoch of every trial in one chart (the paper’s Fig. 4), a table of trials\n' +
        'with the best one marked (the rule of autodeeplab trials best) and links to their own reports. It reads\n' +
        'only the store’s files: no Redis needed.\n',
    );
  addCommonOptions(command).action(async (runDir: string, options: ReportFlags) => {
    // Loaded only when the command runs (fast --help).
    const { isTrialStore } = await import('../report/store-layout.js');
    if (await isTrialStore(runDir)) return reportStore(ctx, runDir, options);
    const { writeReport } = await import('../report/write-report.js');
    const written = await writeReport(runDir, options.out);
    if (options.json) {
      printJson(ctx.io, written);
      return;
    }
    const last = written.lastEpoch;
    const mIoU = last?.validation ? `, validation mIoU ${(100 * last.validation.mIoU).toFixed(2)}%` : '';
    printLine(ctx.io, `${written.kind} run (${written.status})${last ? `, epoch ${last.epoch}${mIoU}` : ', no epoch finished yet'}`);
    if (written.partialLastLine) printLine(ctx.io, 'the last line of metrics.jsonl was still being written: left out');
    printLine(ctx.io, `report: ${written.path}`);
  });
}
