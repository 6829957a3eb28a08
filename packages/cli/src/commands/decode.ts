import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { EdgeStrength } from '@autodeeplab/decode';
import { readSavedArchitecture } from '../architecture.js';
import { setupBackend, type CommandContext } from '../context.js';
import { genotypeText } from '../genotype-text.js';
import { printJson, printLine } from '../io.js';
import { addCommonOptions, examples, type CommonOptions } from '../options.js';
import { DECODED_DIR, GENOTYPE_FILE } from '@autodeeplab/optim';

interface DecodeOptions extends CommonOptions {
  out?: string;
  name?: string;
  strength: EdgeStrength;
  plots: boolean;
}

export function registerDecode(program: Command, ctx: CommandContext): void {
  const command = program
    .command('decode')
    .argument('<run-dir|checkpoint>', 'a search run directory or one of its checkpoints')
    .description('decode the architecture (genotype) from the saved α and β of a search, and draw it')
    .option('-o, --out <dir>', `where to write ${GENOTYPE_FILE} and the plots (default: <run-dir>/${DECODED_DIR})`)
    .option('--name <name>', 'a name stored in the genotype')
    .addOption(new Option('--strength <measure>', "edge strength for choosing a block's two inputs").choices(['softmax', 'logit']).default('softmax'))
    .option('--no-plots', 'skip the trellis, cell and α plots')
    .addHelpText(
      'after',
      examples([
        'autodeeplab decode runs/search-1',
        'autodeeplab decode runs/search-1/checkpoints/step-000000200 --out genotypes/step200',
        'autodeeplab decode runs/search-1 --json > genotype.json',
      ]),
    );
  addCommonOptions(command).action(async (path: string, options: DecodeOptions) => {
    await setupBackend(ctx, options);
    const { decode, writePlots } = await import('@autodeeplab/decode');
    const { writeGenotype } = await import('@autodeeplab/genotype');
    const saved = await readSavedArchitecture(path);
    const genotype = decode(
      { alpha: saved.alpha, beta: saved.beta, config: saved.config },
      {
        source: saved.checkpointDir,
        strength: options.strength,
        ...(options.name ? { name: options.name } : {}),
        ...(saved.epoch !== undefined ? { epoch: saved.epoch } : {}),
        ...(saved.step !== undefined ? { step: saved.step } : {}),
      },
    );
    const out = resolve(options.out ?? join(saved.runDir, DECODED_DIR));
    await mkdir(out, { recursive: true });
    const genotypePath = join(out, GENOTYPE_FILE);
    await writeGenotype(genotypePath, genotype);
    const plots = options.plots ? await writePlots(out, { genotype, alpha: saved.alpha, beta: saved.beta, config: saved.config }) : undefined;
    if (options.json) {
      printJson(ctx.io, { genotype, files: { genotype: genotypePath, plots: plots ?? null } });
      return;
    }
    ctx.io.stdout.write(genotypeText(genotype));
    printLine(ctx.io);
    printLine(ctx.io, `genotype: ${genotypePath}`);
    if (plots) {
      printLine(ctx.io, `plots:    ${[plots.trellis.png, plots.cell.png, plots.alpha?.png].filter(Boolean).join(', ')}`);
    }
  });
}
