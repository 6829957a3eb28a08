import { ADAPTER_KINDS, BACKEND_NAMES, DAWN_BACKENDS, type AdapterKind, type BackendName, type DawnBackend } from '@autodeeplab/core';
import { InvalidArgumentError, Option, type Command } from 'commander';

/** Options every command takes. */
export interface CommonOptions {
  backend?: 'auto' | BackendName;
  dawnBackend?: DawnBackend;
  webgpuAdapter?: AdapterKind;
  /** ES modules to import first (custom ops), repeatable. */
  plugin?: string[];
  seed?: number;
  verbose: boolean;
  json: boolean;
}

export function parseInteger(name: string, min = 0): (value: string) => number {
  return (value: string) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected an integer, found '${value}'.`);
    const n = Number(value);
    if (n < min) throw new InvalidArgumentError(`${name} must be at least ${min}, found ${n}.`);
    return n;
  };
}

export function parseNumber(name: string, { positive = false } = {}): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, found '${value}'.`);
    if (positive && n <= 0) throw new InvalidArgumentError(`${name} must be positive, found ${n}.`);
    return n;
  };
}

/** Adds `--backend`, `--seed`, `--verbose` and, for commands whose output is data, `--json`. */
export function addCommonOptions(command: Command, { json = true } = {}): Command {
  command
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend (default: AUTODEEPLAB_BACKEND, else the fastest available)').choices(['auto', ...BACKEND_NAMES]),
    )
    .addOption(
      new Option('--dawn-backend <api>', "the native API WebGPU runs on (default: AUTODEEPLAB_DAWN_BACKEND, else the platform's)").choices(DAWN_BACKENDS),
    )
    .addOption(
      new Option(
        '--webgpu-adapter <kind>',
        'which WebGPU adapters to accept; a software rasteriser only when asked for (default: AUTODEEPLAB_WEBGPU_ADAPTER, else any)',
      ).choices(ADAPTER_KINDS),
    )
    .option('--plugin <module>', 'an ES module to load first, e.g. one registering custom ops (a path or package name; repeatable)', collect)
    .option('--seed <n>', 'random seed (initialisation, data order, splits)', parseInteger('--seed'))
    .option('-v, --verbose', 'more detail; stack traces on errors', false);
  if (json) command.option('--json', 'print the result as JSON on stdout (progress stays on stderr)', false);
  return command;
}

/** `--set path.to.field=value`, repeatable: accumulates into a list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Help text listing examples, shown after the options. */
export function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
