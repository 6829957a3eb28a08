import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { UserInputError, isCheckpoint, makeDirectory, writeFileAtomic } from '@autodeeplab/core';
import { applyOverrides, getPath, readConfigFile, toYaml } from './config-file.js';
import type { SearchRunConfig } from './config.js';
import { createProgress, type CommandContext } from './context.js';
import { startRunLog, type RunLogFile } from './run-log.js';
import { RunReporter, type ReportedEvent } from './reporter.js';
import { RunStoppedBySignal, STOP_SIGNALS, formatError, type StopSignal } from './errors.js';
import { RunPosition } from './run-failure.js';
import { CHECKPOINT_DIR, RUN_CONFIG_FILE } from '@autodeeplab/optim';

export interface ConfigSourceOptions {
  config?: string;
  resume?: string;
  set?: string[];
}

export type RunKind = 'search' | 'train';

/** The sections only a search's config or only a training's config has. */
const KIND_SECTIONS: Record<RunKind, readonly string[]> = { search: ['searchSpace', 'search'], train: ['network', 'train', 'genotype'] };

/** Refuses to resume a search run with `train` or a training run with `search`, saying which it is. */
function assertRunKind(config: unknown, runDir: string, kind: RunKind | undefined): void {
  if (kind === undefined || typeof config !== 'object' || config === null) return;
  const other: RunKind = kind === 'search' ? 'train' : 'search';
  const keys = Object.keys(config);
  if (KIND_SECTIONS[other].some((k) => keys.includes(k)) && !KIND_SECTIONS[kind].some((k) => keys.includes(k))) {
    throw new UserInputError(
      `--resume ${runDir}: that is a ${other === 'search' ? 'search' : 'training'} run; continue it with autodeeplab ${other} --resume ${runDir}`,
    );
  }
}

/**
 * The raw config of a run: `<run-dir>/config.yaml` when resuming, else the `--config` file, else
 * empty; then the flags, then `--set`. Returns the data and a name for error messages.
 */
export async function loadRawConfig(
  options: ConfigSourceOptions,
  flags: Record<string, unknown>,
  kind?: RunKind,
): Promise<{ raw: Record<string, unknown>; source: string }> {
  let base: unknown = {};
  let source = 'command-line options';
  if (options.resume) {
    const file = join(options.resume, RUN_CONFIG_FILE);
    if (!existsSync(file)) throw new UserInputError(`--resume ${options.resume}: not a run directory (no ${RUN_CONFIG_FILE} in it)`);
    base = await readConfigFile(file);
    source = file;
    assertRunKind(base, options.resume, kind);
    if (options.config) {
      throw new UserInputError('--resume continues a run with its own config; do not also give --config (use flags to change settings that may change)');
    }
  } else if (options.config) {
    base = await readConfigFile(options.config);
    source = options.config;
  }
  const raw = applyOverrides(base, { ...flags, ...(options.resume ? { runDir: options.resume } : {}) }, options.set ?? []);
  if (options.set?.length || Object.values(flags).some((v) => v !== undefined)) {
    if (source !== 'command-line options') source = `${source} (with command-line overrides)`;
  }
  return { raw, source };
}

/** The flags of `search` and `train` that decide how a run starts and reports. */
export interface RunStartOptions {
  resume?: string;
  overwrite?: boolean;
  verbose?: boolean;
}

/** `loadRawConfig` for a run, which cannot start without training data. */
export async function loadRawRunConfig(
  options: ConfigSourceOptions,
  flags: Record<string, unknown>,
  kind: RunKind,
): Promise<{ raw: Record<string, unknown>; source: string }> {
  const loaded = await loadRawConfig(options, flags, kind);
  if (!given(loaded.raw, 'dataset')) {
    throw new UserInputError(`${loaded.source}: no dataset: give --dataset <kind> (and --data-root) or a dataset section in the config`);
  }
  return loaded;
}

export function requireRunDir(runDir: string | undefined): string {
  if (!runDir) throw new UserInputError('no run directory: give --run-dir <dir> (or runDir in the config file)');
  return resolve(runDir);
}

/** Makes the config's run directory absolute (the config written into it names it so) and returns it. */
export function settleRunDir(config: { runDir?: string }): string {
  const runDir = requireRunDir(config.runDir);
  config.runDir = runDir;
  return runDir;
}

/**
 * Refuses to replace an earlier run (see `assertFreshRunDir`) and sizes the backend cannot hold (see
 * run-limits.ts), then writes the resolved config; returns its path.
 */
export async function startRunDir(runDir: string, config: unknown, options: RunStartOptions): Promise<string> {
  await assertFreshRunDir(runDir, options);
  const limits = await import('./run-limits.js');
  await limits.assertRunFits(config);
  return writeResolvedConfig(runDir, config);
}

/** Why a directory could not be made, in the user's words, by the error's code. */
const MKDIR_PROBLEMS: Record<string, string> = {
  EEXIST: 'it is a file, not a directory',
  ENOTDIR: 'a part of its path is a file, not a directory',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted there',
  EROFS: 'the file system is read-only',
  // The parent exists but takes no new entries: a virtual file system such as /proc or /sys.
  ENOENT: 'its file system does not accept new directories (not a regular file system)',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
};

/** Creates the run directory, or says in one line why it cannot be one (exit 2), naming the directory that refused. */
export async function makeRunDir(runDir: string): Promise<void> {
  try {
    await makeDirectory(runDir);
  } catch (error) {
    const problem = MKDIR_PROBLEMS[String((error as { code?: unknown }).code)];
    if (!problem) throw error;
    const at = (error as { path?: unknown }).path;
    const where = typeof at === 'string' && at !== runDir ? ` (at ${at})` : '';
    throw new UserInputError(`run directory ${runDir}: ${problem}${where}; choose another --run-dir`, { cause: error });
  }
}

/** Writes the resolved config (every default filled in) as `<runDir>/config.yaml`. */
export async function writeResolvedConfig(runDir: string, config: unknown): Promise<string> {
  await makeRunDir(runDir);
  const path = join(runDir, RUN_CONFIG_FILE);
  await writeFileAtomic(path, `# Resolved by autodeeplab: every setting of this run, defaults included.\n${toYaml(config)}`);
  return path;
}

/** Whether the user gave a field (before defaults were filled in). */
export function given(raw: Record<string, unknown>, path: string): boolean {
  return getPath(raw, path) !== undefined;
}

/**
 * An abort signal raised by the first SIGINT (Ctrl-C) or SIGTERM (what Slurm, Docker and Kubernetes
 * send before they kill): the run stops at the next step with a checkpoint. A second signal exits at
 * once. `stoppedBy` says which came first.
 */
export function interruptSignal(onFirst: (name: StopSignal) => void): {
  signal: AbortSignal;
  stoppedBy: () => StopSignal | undefined;
  dispose: () => void;
} {
  const controller = new AbortController();
  let first: StopSignal | undefined;
  const handlers = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((name) => {
    const handler = () => {
      // A second signal: out at once; the last checkpoint on disk is a good one (writes are atomic).
      if (first) process.exit(STOP_SIGNALS[name]);
      first = name;
      onFirst(name);
      controller.abort();
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    stoppedBy: () => first,
    dispose: () => handlers.forEach(([name, handler]) => process.off(name, handler)),
  };
}

/** `321x321` or `321` → [321, 321]. */
export function parseSize(value: string): [number, number] {
  const match = /^(\d+)(?:[x×,](\d+))?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`expected a size such as 321 or 321x321, found '${value}'.`);
  const h = Number(match[1]);
  return [h, match[2] ? Number(match[2]) : h];
}

/**
 * Refuses to start a new run over an earlier one (its config would be replaced) unless resuming or
 * `--overwrite`.
 */
export async function assertFreshRunDir(runDir: string, options: { resume?: string; overwrite?: boolean }): Promise<void> {
  if (options.resume || options.overwrite) return;
  if (await isCheckpoint(join(runDir, CHECKPOINT_DIR))) {
    throw new UserInputError(`${runDir} already holds a run: continue it with --resume ${runDir}, choose another --run-dir, or pass --overwrite`);
  }
}

type DataSettings = SearchRunConfig['data'];

/** Batch options of training data: shuffled, augmented, whole batches only. */
export function trainingBatchOptions(data: DataSettings, seed: number) {
  return { batchSize: data.batchSize, transforms: data.transforms, seed, shuffle: true, dropLast: true, prefetch: data.prefetch };
}

/** Batch options of validation data: in order, every image, no augmentation. */
export function evaluationBatchOptions(data: DataSettings, seed: number) {
  return { batchSize: data.batchSize, transforms: data.evalTransforms, seed, shuffle: false, dropLast: false };
}

/** Network input preprocessing recorded with the weights: the normalisation of the evaluation transforms. */
export function preprocessingOf(normalize: false | { mean: number[]; std: number[] }): { mean: number[]; std: number[] } {
  return normalize === false ? { mean: [0, 0, 0], std: [1, 1, 1] } : { mean: [...normalize.mean], std: [...normalize.std] };
}

export type DoneReport = Extract<ReportedEvent, { type: 'done' }>;

/** How a run ended: the last fields of both run summaries. */
export interface RunOutcome {
  interrupted: boolean;
  /** The signal that interrupted the run, if one did. */
  stoppedBy: StopSignal | null;
  steps: number;
  seconds: number;
  validation: { mIoU: number; pixelAccuracy: number } | null;
}

/** The outcome from a run's done event; a run that sent none reports zero steps. */
export function runOutcome(done: DoneReport | undefined, stoppedBy: StopSignal | undefined): RunOutcome {
  return {
    interrupted: done?.interrupted ?? false,
    stoppedBy: stoppedBy ?? null,
    steps: done?.step ?? 0,
    seconds: done?.seconds ?? 0,
    validation: done?.validation ?? null,
  };
}

/** What a run's body gets from `withRunSession`. */
export interface RunSession {
  /** Raised by the first SIGINT or SIGTERM. */
  signal: AbortSignal;
  /** The signal that raised it, if any. */
  stoppedBy(): StopSignal | undefined;
  /** Shows each event, then hands it to `onEvent`; returns the done event. */
  follow<E extends ReportedEvent>(events: AsyncIterable<E>, onEvent?: (event: E) => Promise<void> | void): Promise<DoneReport | undefined>;
}

/**
 * Runs `body` with a progress display and Ctrl-C as an interrupt, then disposes `model`. Both last
 * until `body` returns, so that a Ctrl-C while the results are written does not cut them short.
 */
export async function withRunSession<T>(
  ctx: CommandContext,
  options: RunStartOptions,
  model: { dispose(): void },
  body: (session: RunSession) => Promise<T>,
): Promise<T> {
  const progress = createProgress(ctx);
  const reporter = new RunReporter(progress, { verbose: options.verbose });
  const interrupt = interruptSignal((name) =>
    progress.log(`${name}: stopping at the next step with a checkpoint (${name === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again to quit now)`),
  );
  let log: RunLogFile | undefined;
  const follow = async <E extends ReportedEvent>(events: AsyncIterable<E>, onEvent?: (event: E) => Promise<void> | void) => {
    let done: DoneReport | undefined;
    const position = new RunPosition();
    try {
      for await (const event of events) {
        position.see(event);
        if (event.type === 'start' && !log) log = startRunLog(ctx, progress, (event as Extract<ReportedEvent, { type: 'start' }>).runDir);
        reporter.handle(event);
        if (onEvent) await onEvent(event);
        if (event.type === 'done') done = event as DoneReport;
      }
    } catch (error) {
      // A full disk mid-run: the error line says the step reached and the checkpoint to resume from.
      throw position.explain(error);
    }
    return done;
  };
  try {
    return await body({ signal: interrupt.signal, stoppedBy: interrupt.stoppedBy, follow });
  } catch (error) {
    progress.finish();
    // The error line the command prints, in the run's log too.
    log?.write(formatError(error, false).text.split('\n')[0]! + '\n');
    throw error;
  } finally {
    interrupt.dispose();
    progress.finish();
    log?.close();
    model.dispose();
  }
}

/** After a run's summary is printed: a run a signal stopped ends the process with that signal's code. */
export function exitIfStoppedBySignal(outcome: RunOutcome): void {
  if (outcome.stoppedBy) throw new RunStoppedBySignal(outcome.stoppedBy);
}
