/** The GPU check's report: what each measurement gave, and the summary printed at the end. */
import type { AdapterDescription } from '@autodeeplab/core';
import { formatTable } from '../bench/common.ts';
import type { GradientCheck } from './gradients.ts';

export interface Measurement {
  phase: string;
  label: string;
  /** `ok`, or why it was skipped, killed or failed. */
  status: string;
  /** Wall seconds of the child process (start-up, warm-up and shader compilation included). */
  wallS?: number;
  /** Median seconds per iteration / step. */
  seconds?: number | undefined;
  /** GPU dispatches per iteration / step. */
  launches?: number | undefined;
  gpuPeakBytes?: number | undefined;
  launchCostUs?: number | undefined;
  /** A row's own error (the training benchmark reports a failed size in its JSON). */
  error?: string | undefined;
}

export interface Report {
  adapter: AdapterDescription | null;
  backendError: string | null;
  gradientTolerance: number;
  gradients: GradientCheck[];
  measurements: Measurement[];
}

export function formatSummary(report: Report): string {
  const adapter = report.adapter
    ? `adapter: ${report.adapter.description || report.adapter.device} (${report.adapter.vendor || '?'} ${report.adapter.architecture || ''}; ` +
      `Dawn ${report.adapter.dawnBackend}, ${report.adapter.featureLevel}${report.adapter.software ? ', SOFTWARE' : ''})`
    : `no WebGPU backend: ${report.backendError}`;
  const gradients = formatTable(
    ['gradient check (webgpu vs cpu)', 'max rel error', `≤ ${report.gradientTolerance}`],
    report.gradients.map((g) => [g.op, Number.isNaN(g.maxRelError) ? '-' : g.maxRelError.toExponential(2), g.pass ? 'pass' : `FAIL ${g.error ?? ''}`]),
  );
  const measurements = formatTable(
    ['measurement', 'size', 's / iteration', 'launches', 'GPU peak GB', 'launch µs', 'wall s', 'status'],
    report.measurements.map((m) => [
      m.phase,
      m.label,
      m.seconds?.toFixed(3) ?? '-',
      m.launches === undefined ? '-' : String(m.launches),
      m.gpuPeakBytes === undefined ? '-' : (m.gpuPeakBytes / 1e9).toFixed(2),
      m.launchCostUs?.toFixed(1) ?? '-',
      m.wallS?.toFixed(0) ?? '-',
      m.error ? `${m.status}; ${m.error}` : m.status,
    ]),
  );
  return `\n${adapter}\n\n${gradients}\n\n${measurements}\n`;
}
