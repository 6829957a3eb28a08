import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { printJson, printLine } from '../io.js';
import { addCommonOptions, examples, type CommonOptions } from '../options.js';

interface ReportFlags extends CommonOptions {
  out?: string;
}

export function registerReport(program: Command, ctx: CommandContext): void {
  const command = program
    .command('report')
    .argument('<run-dir>', 'the run directory of a search or a training (finished or still running)')
    .description('write an HTML report of a run: loss, learning rate, validation, per-class IoU; for a search the trellis, α and the cell per epoch')
    .option('-o, --out <file>', 'where to write the report (default: <run-dir>/report.html)')
    .addHelpText(
      'after',
      examples(['autodeeplab report runs/search-1', 'autodeeplab report runs/adl-s --out adl-s.html', 'autodeeplab report runs/search-1 --json']) +
        '\nOne self-contained file (scripts and data inline; opens from disk, no server or network). It reads\n' +
        'metrics.jsonl as it is, so it can be regenerated while the run is going.\n',
    );
  addCommonOptions(command).action(async (runDir: string, options: ReportFlags) => {
    // Loaded only when the command runs (fast --help).
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
