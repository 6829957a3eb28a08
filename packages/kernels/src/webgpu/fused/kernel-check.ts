import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { useBackend } from '../../testing/backend.js';

/**
 * For the tests of the webgpu fused kernels: a kernel run on a backend from host arrays, and a
 * comparison with an oracle under a per-element tolerance that records the largest errors seen.
 */

export interface HostTensor {
  values: Float32Array;
  shape: number[];
}

export interface KernelRun {
  outputs: HostTensor[];
  /** Milliseconds from the kernel's launch to its last output read back. */
  ms: number;
}

interface DataIdCounter {
  numDataIds(): number;
}

/**
 * Runs `kernelName` on `backend` (inputs by name, or positional as for AdlEdgeWeightedSum), reads
 * every output with `await data()` and disposes them; asserts that no tensor nor backend buffer
 * (the kernels' own intermediates included) is left behind.
 */
export async function runKernelOn(
  backend: 'cpu' | 'webgpu',
  kernelName: string,
  inputs: Record<string, HostTensor> | HostTensor[],
  attrs: Record<string, unknown> = {},
): Promise<KernelRun> {
  await useBackend(backend);
  const tensorsBefore = tf.memory().numTensors;
  const dataIdsBefore = (tf.backend() as unknown as DataIdCounter).numDataIds();
  const made = Array.isArray(inputs)
    ? inputs.map((h) => tf.tensor(h.values, h.shape))
    : Object.fromEntries(Object.entries(inputs).map(([name, h]) => [name, tf.tensor(h.values, h.shape)]));
  const start = performance.now();
  const result = tf.engine().runKernel(kernelName, made as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
  const outputs = Array.isArray(result) ? result : [result];
  const read: HostTensor[] = [];
  for (const t of outputs) read.push({ values: (await t.data()) as Float32Array, shape: t.shape });
  const ms = performance.now() - start;
  tf.dispose([...outputs, ...Object.values(made)]);
  expect(tf.memory().numTensors, `${kernelName} on ${backend}: tensors left`).toBe(tensorsBefore);
  expect((tf.backend() as unknown as DataIdCounter).numDataIds(), `${kernelName} on ${backend}: buffers left`).toBe(dataIdsBefore);
  return { outputs: read, ms };
}

export const F32_EPS = 2 ** -24;

/** The largest errors seen per kernel (absolute, and relative to the tolerance's scale), for the report. */
export const observedErrors = new Map<string, { maxAbs: number; maxRel: number; maxOfTolerance: number; elements: number }>();

/**
 * Expects |actual − expected| ≤ tolerance(i) everywhere (NaN only where the oracle has NaN), and
 * records the errors under `label`; the relative error divides by max(|expected|, 1e-30).
 */
export function expectClose(label: string, actual: HostTensor, expected: ArrayLike<number>, expectedShape: number[], tolerance: (i: number) => number): void {
  expect(actual.shape, `${label}: shape`).toEqual(expectedShape);
  expect(actual.values.length, `${label}: length`).toBe(expected.length);
  const seen = observedErrors.get(label) ?? { maxAbs: 0, maxRel: 0, maxOfTolerance: 0, elements: 0 };
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual.values[i]!, expected[i]!];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (Number.isNaN(e) !== Number.isNaN(a)) [worst, worstExcess] = [i, Infinity];
      continue;
    }
    const error = Math.abs(a - e);
    seen.maxAbs = Math.max(seen.maxAbs, error);
    seen.maxRel = Math.max(seen.maxRel, error / Math.max(Math.abs(e), 1e-30));
    const allowed = tolerance(i);
    if (allowed > 0) seen.maxOfTolerance = Math.max(seen.maxOfTolerance, error / allowed);
    const excess = error - allowed;
    if (excess > worstExcess) [worst, worstExcess] = [i, excess];
  }
  seen.elements += expected.length;
  observedErrors.set(label, seen);
  const detail = worst < 0 ? '' : `element ${worst}: ${actual.values[worst]} vs ${expected[worst]} (tolerance ${tolerance(worst)})`;
  expect(detail, `${label}: beyond tolerance`).toBe('');
}

/** Prints the recorded errors when ADL_REPORT_ERRORS is set (for reports; tests stay quiet otherwise). */
export function reportObservedErrors(): void {
  if (!process.env.ADL_REPORT_ERRORS) return;
  for (const [label, e] of observedErrors)
    console.info(
      `${label}: max abs ${e.maxAbs.toExponential(2)}, max rel ${e.maxRel.toExponential(2)}, max ${(100 * e.maxOfTolerance).toFixed(1)}% of tolerance, over ${e.elements} elements`,
    );
}

export const host = (values: Float32Array, shape: number[]): HostTensor => ({ values, shape });
