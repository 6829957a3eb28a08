import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { Option, type Command } from 'commander';
import { UserInputError } from '@autodeeplab/core';
import { builtinGenotypeNames, type Genotype } from '@autodeeplab/genotype';
import { setupBackend, type CommandContext } from '../context.js';
import { readConfigFile } from '../config-file.js';
import { formatBytes, formatCount } from '../format.js';
import { printJson, printLine } from '../io.js';
import { resolveNetworkDir } from '../network-dir.js';
import { addCommonOptions, examples, parseInteger, type CommonOptions } from '../options.js';

interface InfoFlags extends CommonOptions {
  preset?: 'S' | 'M' | 'L';
  filterMultiplier?: number;
  numClasses?: number;
  height: number;
  width: number;
  batch: number;
}

export interface InfoReport {
  kind: 'network' | 'supernet';
  source: string;
  input: { height: number; width: number; batch: number };
  parameters: number;
  /** Supernet: α and β, and the other weights. */
  archParameters?: number;
  multiAdds: number;
  multiAddsPerImage: number;
  memory: {
    /** float32 weights. */
    parameterBytes: number;
    /** Weights, gradients and optimiser slots (SGD momentum) during training. */
    trainingStateBytes: number;
    /**
     * Supernets: the estimated peak of one training step (forward + backward) of the default forward,
     * which recomputes its nodes in the backward, on top of the weights (estimateCost's trainingPeakBytes); else null.
     */
    trainingStepPeakBytes: number | null;
    /** Supernets: what the tape of a forward without recomputation would hold (activationBytes); else null. */
    activationBytes: number | null;
  };
  network?: { filterMultiplier: number; numClasses: number; path: number[]; cellOps: string[] };
  searchSpace?: Record<string, unknown>;
}

function looksLikeGenotype(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { format?: unknown }).format === 'autodeeplab-genotype';
}

export function registerInfo(program: Command, ctx: CommandContext): void {
  const command = program
    .command('info')
    .argument('[target]', "'paper', a genotype.json, a run/network directory, or a search config (YAML/JSON)", 'paper')
    .description('parameters, Multi-Adds and estimated memory of a network or a supernet config')
    .addOption(new Option('--preset <size>', 'network size for a genotype: S, M, L (default S)').choices(['S', 'M', 'L']))
    .option('-F, --filter-multiplier <n>', 'filter multiplier F for a genotype', parseInteger('--filter-multiplier', 1))
    .option('--num-classes <n>', 'classes for a genotype (default 19, Cityscapes)', parseInteger('--num-classes', 1))
    .option('--height <n>', 'input height', parseInteger('--height', 1), 1024)
    .option('--width <n>', 'input width', parseInteger('--width', 1), 2048)
    .option('--batch <n>', 'images per batch (supernet activation memory)', parseInteger('--batch', 1), 1)
    .addHelpText(
      'after',
      examples([
        'autodeeplab info paper --preset L',
        'autodeeplab info runs/search-1/genotype.json -F 20 --height 769 --width 769 --json',
        'autodeeplab info search.yaml --height 321 --width 321 --batch 2',
        'autodeeplab info runs/adl-s',
      ]),
    );
  addCommonOptions(command).action(async (target: string, options: InfoFlags) => {
    const report = await runInfo(ctx, target, options);
    if (options.json) {
      printJson(ctx.io, report);
      return;
    }
    const out = (line = '') => printLine(ctx.io, line);
    out(`${report.kind} ${report.source} at ${report.input.height}×${report.input.width}${report.kind === 'supernet' ? `, batch ${report.input.batch}` : ''}`);
    if (report.network) out(`  F ${report.network.filterMultiplier}, ${report.network.numClasses} classes, path ${report.network.path.join(' ')}`);
    const arch = report.archParameters !== undefined ? `, of which α and β ${report.archParameters}` : '';
    out(`  parameters:   ${formatCount(report.parameters)} (${report.parameters})${arch}`);
    out(`  Multi-Adds:   ${formatCount(report.multiAddsPerImage)} per image`);
    const { parameterBytes, trainingStateBytes } = report.memory;
    out(`  memory:       weights ${formatBytes(parameterBytes)}; training state ${formatBytes(trainingStateBytes)} (weights, gradients, momentum)`);
    if (report.memory.trainingStepPeakBytes !== null && report.memory.activationBytes !== null) {
      const peak = formatBytes(report.memory.trainingStepPeakBytes);
      out(`                one training step peaks at about ${peak} on top of the weights (nodes recomputed in the backward;`);
      out(`                without them the tape alone would hold ${formatBytes(report.memory.activationBytes)})`);
    } else out('                activation memory is estimated for supernets only');
  });
}

export async function runInfo(ctx: CommandContext, target: string, options: InfoFlags): Promise<InfoReport> {
  const input = { height: options.height, width: options.width, batch: options.batch };
  const isBuiltin = builtinGenotypeNames().includes(target) && !existsSync(target);
  let genotype: Genotype | undefined;
  let networkOptions: { filterMultiplier?: number; preset?: 'S' | 'M' | 'L'; numClasses: number; [key: string]: unknown } | undefined;
  let searchSpace: unknown;
  await setupBackend(ctx, options);
  const { loadGenotype } = await import('@autodeeplab/genotype');
  const sizeFlags = options.preset || options.filterMultiplier !== undefined;
  if (isBuiltin || (existsSync(target) && statSync(target).isFile() && extname(target) === '.json' && looksLikeGenotype(await readConfigFile(target)))) {
    genotype = await loadGenotype(target);
    networkOptions = {
      ...(options.filterMultiplier !== undefined ? { filterMultiplier: options.filterMultiplier } : { preset: options.preset ?? 'S' }),
      numClasses: options.numClasses ?? 19,
    };
  } else if (existsSync(target) && statSync(target).isDirectory()) {
    const { networkDir } = resolveNetworkDir(target);
    const { readFile } = await import('node:fs/promises');
    const { NetworkFileSchema } = await import('@autodeeplab/model');
    const { parseWithSchema } = await import('@autodeeplab/core');
    const file = parseWithSchema(NetworkFileSchema, JSON.parse(await readFile(`${networkDir}/network.json`, 'utf8')), `${networkDir}/network.json`);
    genotype = await loadGenotype(`${networkDir}/genotype.json`);
    if (sizeFlags) throw new UserInputError('--preset / --filter-multiplier apply to a genotype, not to a trained network');
    networkOptions = { ...file.config };
  } else if (existsSync(target)) {
    const data = (await readConfigFile(target)) as Record<string, unknown> | null;
    if (!data || typeof data !== 'object') throw new UserInputError(`${target}: expected a genotype or a search config`);
    searchSpace = 'searchSpace' in data ? (data.searchSpace ?? {}) : data;
  } else {
    throw new UserInputError(`'${target}' is not a built-in genotype (${builtinGenotypeNames().join(', ')}) nor an existing file or directory`);
  }

  if (genotype && networkOptions) {
    const { countParameters, countMultiAdds, resolveNetworkConfig } = await import('@autodeeplab/model');
    const parameters = countParameters(genotype, networkOptions);
    const multiAdds = countMultiAdds(genotype, networkOptions, { height: input.height, width: input.width }).total;
    const config = resolveNetworkConfig(networkOptions, target);
    return {
      kind: 'network',
      source: target,
      input,
      parameters,
      multiAdds: multiAdds * input.batch,
      multiAddsPerImage: multiAdds,
      memory: { parameterBytes: 4 * parameters, trainingStateBytes: 12 * parameters, trainingStepPeakBytes: null, activationBytes: null },
      network: {
        filterMultiplier: config.filterMultiplier,
        numClasses: config.numClasses,
        path: genotype.path,
        cellOps: genotype.cell.flatMap((block) => block.map((b) => `${b.op}(${b.input})`)),
      },
    };
  }
  const { estimateCost, parseSearchSpaceConfig } = await import('@autodeeplab/search-space');
  const config = parseSearchSpaceConfig(searchSpace ?? {}, `${target} (searchSpace)`);
  const cost = estimateCost(config, { height: input.height, width: input.width, batch: input.batch });
  return {
    kind: 'supernet',
    source: target,
    input,
    parameters: cost.parameters.total,
    archParameters: cost.parameters.arch,
    multiAdds: cost.multiAdds,
    multiAddsPerImage: cost.multiAddsPerImage,
    memory: {
      parameterBytes: 4 * cost.parameters.total,
      // Weights: SGD momentum; α, β: Adam's two moments.
      trainingStateBytes: 4 * (3 * cost.parameters.weight + 4 * cost.parameters.arch),
      trainingStepPeakBytes: cost.trainingPeakBytes,
      activationBytes: cost.activationBytes,
    },
    searchSpace: config as unknown as Record<string, unknown>,
  };
}
