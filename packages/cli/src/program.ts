import { Command } from 'commander';
import type { CommandContext } from './context.js';
import { registerDoctor } from './commands/doctor.js';
import { registerInfo } from './commands/info.js';
import { registerDecode } from './commands/decode.js';
import { registerSearch } from './commands/search.js';
import { registerTrain } from './commands/train.js';
import { registerEval } from './commands/eval.js';
import { registerPredict } from './commands/predict.js';
import { registerDemo } from './commands/demo.js';
import { registerTrials } from './commands/trials.js';
import { registerWorker } from './commands/worker.js';
import { registerReport } from './commands/report.js';
import { registerExport } from './commands/export.js';
import { examples } from './options.js';
import { CLI_VERSION } from './version.js';
import { loadPlugins, resolvePlugin } from './plugins.js';

/** The `autodeeplab` command with every subcommand. Errors surface as exceptions (see `runCli`). */
export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('autodeeplab');
  program
    .description('Auto-DeepLab on TensorFlow.js: search, decode, train, evaluate and run segmentation networks')
    .version(CLI_VERSION, '--version', 'print the version')
    .exitOverride()
    // Plugins first: what they register (custom ops) must be known when the command validates its input.
    .hook('preAction', async (_program, command) => {
      const specs = (command.opts() as { plugin?: string[] }).plugin ?? [];
      await loadPlugins(
        specs.map((spec) => resolvePlugin(spec, process.cwd())),
        '--plugin',
      );
    })
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => void ctx.io.stdout.write(text),
      writeErr: (text) => void ctx.io.stderr.write(text),
      getOutHelpWidth: () => ctx.io.stdout.columns ?? 100,
      getErrHelpWidth: () => ctx.io.stderr.columns ?? 100,
    })
    .addHelpText(
      'after',
      examples([
        'autodeeplab doctor',
        'autodeeplab demo --out demo-run',
        'autodeeplab search --config search.yaml --run-dir runs/s1',
        'autodeeplab decode runs/s1',
        'autodeeplab train --genotype runs/s1/genotype.json --preset S --dataset synthetic --run-dir runs/t1',
        'autodeeplab eval runs/t1 --dataset synthetic',
        'autodeeplab predict runs/t1 images/ --out predictions',
        'autodeeplab info paper --preset L --height 1024 --width 2048',
      ]) + '\nExit codes: 0 success, 1 failure, 2 invalid input (a flag, a file, a config).\n',
    );
  registerSearch(program, ctx);
  registerDecode(program, ctx);
  registerTrain(program, ctx);
  registerEval(program, ctx);
  registerPredict(program, ctx);
  registerInfo(program, ctx);
  registerDoctor(program, ctx);
  registerDemo(program, ctx);
  registerTrials(program, ctx);
  registerWorker(program, ctx);
  registerReport(program, ctx);
  registerExport(program, ctx);
  return program;
}
