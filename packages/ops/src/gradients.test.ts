import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import { BUILTIN_OPS, SepConv, createOp, type Op } from './index.js';
import { analyticGradients, normalTensor, numericGradients, wellSeparatedInput } from './testing.js';

/**
 * Gradients of every op (input and weights) against central finite differences on the cpu backend.
 *
 * Setting: N = 2, 5×4 input (one odd, one even side), 3 channels, train mode (BN uses batch
 * statistics: the input is spread over [−3.2, 3.2] with no tiny values, so every channel's batch
 * variance is far from 0 and BN is well conditioned), loss L = Σ op(x)·R with R ~ N(0, 1) fixed
 * (a plain Σ op(x) would be constant through a BN).
 *
 * Step h = 3e-3 and tolerance |numeric − analytic| ≤ 2e-3 + 1e-2·|analytic| per entry, because:
 * - Round-off: the op runs in float32 (ulp 6e-8 relative); L sums ~40–120 products of O(1) values
 *   (the sum itself is float64), so L is off by ≲ 100 terms · 10 operations · 6e-8 ≈ 6e-6 (measured:
 *   the quotient's noise at h = 1e-3 is ≈ 2e-3, i.e. ≈ 4e-6 in L). Over 2h = 6e-3 that is ≲ 1.3e-3.
 * - Truncation: h²/6·|L'''|, O(h²): measured ≲ 5e-3 at h = 1e-2 for gradients up to ~20, so
 *   ≲ 5e-4 at h = 3e-3 — within the relative part.
 * - Kinks: |x| ≥ 0.25 and values ≥ 0.05 apart, so a step of 3e-3 never crosses the head ReLU or a
 *   max-pool tie; the inner ReLU of sep convs is probed and entries whose perturbation crosses it
 *   are excluded (and must stay a small minority).
 * A real mistake (a missing term, a wrong padding, a stale statistic) is off by O(|gradient|) ≈ 0.1–20.
 */
const H = 3e-3;
const ATOL = 2e-3;
const RTOL = 1e-2;
const SHAPE: [number, number, number, number] = [2, 5, 4, 3];

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

function probeFor(op: Op): ((x: tf.Tensor4D) => tf.Tensor) | undefined {
  if (op instanceof SepConv) return (x) => op.bn1.apply(op.pw1.apply(op.dw1.apply(tf.relu(x))));
  return undefined;
}

const differentiable = BUILTIN_OPS.filter((name) => name !== 'none');

describe.each(differentiable)('%s gradients agree with finite differences (cpu)', (name) => {
  it.each([
    [1, false],
    [2, false],
    [1, true],
    [2, true],
  ] as const)('stride %i, affine %s', (stride, affine) => {
    const op = createOp(name, { name: `fd/${name}`, channels: SHAPE[3], stride, affine, rng: new Rng(7) });
    const x = wellSeparatedInput(SHAPE, 11);
    const outShape = [SHAPE[0], Math.ceil(SHAPE[1] / stride), Math.ceil(SHAPE[2] / stride), SHAPE[3]];
    const r = normalTensor(outShape, 13);
    try {
      // Non-trivial affine parameters, so their gradients are not the special case γ = 1, β = 0.
      // (γ in [0.8, 1.4] and β in [−0.3, 0.3]: away from γ = 0, which would crowd an inner ReLU's input near β.)
      for (const [path, variable] of op.namedParameters()) {
        if (path.endsWith('gamma')) variable.assign(tf.linspace(0.8, 1.4, variable.size));
        if (path.endsWith('beta')) variable.assign(tf.linspace(-0.3, 0.3, variable.size));
      }
      const analytic = analyticGradients(op, x, r);
      const numeric = numericGradients(op, x, r, H, probeFor(op));
      expect([...analytic.grads.keys()]).toEqual([...numeric.grads.keys()]);
      let compared = 0;
      let skipped = 0;
      for (const [path, a] of analytic.grads) {
        const n = numeric.grads.get(path)!;
        const kinks = new Set(numeric.kinks.get(path));
        expect(a.length).toBe(n.length);
        for (let i = 0; i < a.length; i++) {
          if (kinks.has(i)) {
            skipped++;
            continue;
          }
          compared++;
          const error = Math.abs(n[i]! - a[i]!);
          if (error > ATOL + RTOL * Math.abs(a[i]!)) {
            expect.fail(`${path}[${i}]: numeric ${n[i]} vs analytic ${a[i]}`);
          }
        }
        // The gradient must not be trivially zero (a disconnected input or weight).
        expect(Math.max(...a.map(Math.abs)), `${path} gradient`).toBeGreaterThan(1e-3);
      }
      expect(skipped).toBeLessThanOrEqual(0.05 * (compared + skipped));
    } finally {
      op.dispose();
      tf.dispose([x, r]);
    }
  });
});

describe('none', () => {
  it('passes no gradient to its input and has no parameters', () => {
    const op = createOp('none', { name: 'fd/none', channels: 3, stride: 2, affine: false, rng: new Rng(1) });
    const x = wellSeparatedInput(SHAPE, 3);
    // d/dx Σ (none(x) + x) = 1 everywhere: none contributes nothing.
    const g = tf.grad((input: tf.Tensor) => tf.add(tf.sum(op.apply(input as tf.Tensor4D)), tf.sum(input)))(x);
    expect(Array.from(g.dataSync())).toEqual(new Array(x.size).fill(1));
    expect(op.parameters()).toEqual([]);
    tf.dispose([x, g]);
    op.dispose();
  });
});
