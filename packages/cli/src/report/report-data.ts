import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserInputError } from '@autodeeplab/core';
import { METRICS_FILE, NETWORK_DIR, RUN_CONFIG_FILE, type ValidationEvent } from '@autodeeplab/optim';
import { architectureData, type ArchitectureData } from './architecture-data.js';
import { readMetricsFile } from './metrics-reader.js';
import { runHistory, type RunHistory } from './run-history.js';

/** The report's file name in a run directory (or a trials store), when no other is asked for. */
export const REPORT_FILE = 'report.html';

/** The last epoch's figures, as metrics.jsonl has them (the page shows these and tags them for checks). */
export interface LastEpoch {
  /** 1-based. */
  epoch: number;
  meanLoss: number | null;
  meanArchLoss: number | null;
  validation: Pick<ValidationEvent, 'mIoU' | 'pixelAccuracy' | 'loss' | 'perClassIoU'> | null;
}

/** Everything a report shows, read from a run directory. */
export interface ReportData {
  runDir: string;
  history: RunHistory;
  partialLastLine: boolean;
  lastEpoch: LastEpoch | null;
  classNames: string[];
  /** The resolved config as the run wrote it (config.yaml), else the start event's. */
  configText: string;
  configSource: string;
  architecture: ArchitectureData | null;
}

async function readRunConfig(runDir: string, history: RunHistory): Promise<{ text: string; source: string; parsed: Record<string, unknown> | null }> {
  const path = join(runDir, RUN_CONFIG_FILE);
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return { text: JSON.stringify(history.start.config, null, 2), source: `${METRICS_FILE} (start event)`, parsed: null };
  let parsed: unknown = null;
  try {
    parsed = parseYaml(text);
  } catch {
    // Shown as it is; the architecture then falls back to what the genotypes record.
  }
  return { text, source: path, parsed: typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : null };
}

/** Class names a trained network recorded (network/network.json), else `class 0`, `class 1`, …. */
async function classNamesOf(runDir: string, count: number): Promise<string[]> {
  const text = await readFile(join(runDir, NETWORK_DIR, 'network.json'), 'utf8').catch(() => null);
  let names: unknown;
  try {
    names = text === null ? undefined : (JSON.parse(text) as { classNames?: unknown }).classNames;
  } catch {
    names = undefined;
  }
  const given = Array.isArray(names) && names.length === count && names.every((n) => typeof n === 'string') ? (names as string[]) : null;
  return Array.from({ length: count }, (_, i) => given?.[i] ?? `class ${i}`);
}

function lastEpochOf(history: RunHistory): LastEpoch | null {
  const epoch = history.epochs.at(-1);
  const validation = history.validations.at(-1);
  const last = Math.max(epoch?.epoch ?? -1, validation?.epoch ?? -1);
  if (last < 0) return null;
  const epochEvent = epoch?.epoch === last ? epoch : undefined;
  const validationEvent = validation?.epoch === last ? validation : undefined;
  return {
    epoch: last + 1,
    meanLoss: epochEvent?.meanLoss ?? null,
    meanArchLoss: epochEvent?.meanArchLoss ?? null,
    validation: validationEvent
      ? { mIoU: validationEvent.mIoU, pixelAccuracy: validationEvent.pixelAccuracy, loss: validationEvent.loss, perClassIoU: validationEvent.perClassIoU }
      : null,
  };
}

/** Reads a run directory (a search or a training, finished or still going) into what its report shows. */
export async function readReportData(dir: string): Promise<ReportData> {
  const runDir = resolve(dir);
  const info = await stat(runDir).catch(() => null);
  if (!info?.isDirectory()) throw new UserInputError(`run directory ${runDir} not found: expected the run directory of an autodeeplab search or train`);
  const metrics = await readMetricsFile(join(runDir, METRICS_FILE));
  const history = runHistory(metrics.events);
  const config = await readRunConfig(runDir, history);
  const classCount = Math.max(0, ...history.validations.map((v) => v.perClassIoU.length));
  return {
    runDir,
    history,
    partialLastLine: metrics.partialLastLine,
    lastEpoch: lastEpochOf(history),
    classNames: await classNamesOf(runDir, classCount),
    configText: config.text,
    configSource: config.source,
    architecture: history.kind === 'search' ? await architectureData(runDir, history.arch, config.parsed) : null,
  };
}
