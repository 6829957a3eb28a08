import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BatchNorm, Conv2d, Module, Rng, initBackend } from '@autodeeplab/core';
import { registerOp, unregisterOp } from '@autodeeplab/ops';
import { Supernet } from '../supernet.js';
import { TINY, input, loss, spread } from '../testing/supernet-fixtures.js';

/** Logits and gradients of every parameter, stacked (default; `stacked: false`: the fused path) and plain, compared. */
function expectStackedEqualsPlain(net: Supernet, x: tf.Tensor4D, recompute = true, path: { stacked?: boolean } = {}): void {
  const vars = net.parameters();
  const run = (fused: boolean) => {
    const logits = tf.tidy(() => net.forward(x, { fused, recompute, ...path }));
    const { value, grads } = tf.variableGrads(() => loss(net.forward(x, { fused, recompute, ...path }), 9), vars);
    value.dispose();
    return { logits, grads };
  };
  const stacked = run(true);
  const plain = run(false);
  const maxAbs = (t: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]!);
  expect(maxAbs(tf.sub(stacked.logits, plain.logits))).toBeLessThan(1e-4 * maxAbs(plain.logits));
  // Gradients: float32 sums in another order (stacked channels, grouped batches, a hand-written BN
  // gradient) differ by rounding only, so the test is relative to the largest gradient of the
  // network: BN-normalised paths have true gradients near 0 for some tensors (e.g. a conv feeding a
  // BN whose output barely matters), where a per-tensor relative test would compare rounding noise
  // with rounding noise. 1e-4 of the largest gradient is ~1000 float32 ulps of it: far above the
  // measured differences (≲ 1e-6 relative) and far below any real mistake (a wrong BN group, a
  // missing edge, a swapped α column changes gradients by O(1) relative).
  const scale = Math.max(...vars.map((v) => maxAbs(plain.grads[v.name]!)));
  for (const v of vars) {
    const diff = maxAbs(tf.sub(stacked.grads[v.name]!, plain.grads[v.name]!));
    expect(diff, v.name).toBeLessThan(1e-4 * maxAbs(plain.grads[v.name]!) + 1e-5 * scale);
  }
  for (const v of [net.alpha, net.beta]) {
    const diff = maxAbs(tf.sub(stacked.grads[v.name]!, plain.grads[v.name]!));
    expect(diff, v.name).toBeLessThan(1e-3 * maxAbs(plain.grads[v.name]!));
  }
  tf.dispose([stacked.logits, plain.logits, ...Object.values(stacked.grads), ...Object.values(plain.grads)]);
}

/** A user op without a stacked form (fallback path): 3×3 conv → non-affine BN. */
class UserConvBn extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm;
  constructor(name: string, channels: number, rng: Rng) {
    super(name);
    this.conv = this.addChild('conv', (n) => new Conv2d(n, { inChannels: channels, outChannels: channels, kernelSize: 3, rng }));
    this.bn = this.addChild('bn', (n) => new BatchNorm(n, { channels, affine: false }));
  }
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.bn.apply(this.conv.apply(x));
  }
}

describe('stacked forward = plain forward (cpu)', () => {
  // Square inputs: tfjs-backend-cpu's ResizeBilinearGrad swaps height and width for non-square
  // inputs (a tfjs bug, reported to core); the sizes still differ between scales (21 → 6 → 3 → 2).
  // The trellis covers every case of the stacked cell: nodes with one call and no prev_prev
  // (layer 1), two calls without prev_prev (layer 2, s = 8: 2 batch groups; substituted: one merged
  // group), and 2–3 calls with a prev_prev (layer 3: the prev_prev group broadcast over the batch
  // groups). A missing H^{l-2} dropped (the default: no prev_prev edges) or substituted.
  for (const missingPrevPrev of ['drop', 'substitute'] as const) {
    it(`B = 2, H^{l-2} ${missingPrevPrev}: the same logits and the same gradients for every parameter, with and without recomputed nodes, and on the fused path`, async () => {
      await initBackend({ backend: 'cpu' });
      const net = new Supernet({ ...TINY, missingPrevPrev }, { name: `fused_vs_plain_${missingPrevPrev}` });
      spread(net);
      const x = input([2, 21, 21, 3], 8);
      expectStackedEqualsPlain(net, x, true);
      expectStackedEqualsPlain(net, x, false);
      expectStackedEqualsPlain(net, x, false, { stacked: false });
      x.dispose();
      net.dispose();
    });

    it(`B = 3 with a user-registered op (per-edge fallback), H^{l-2} ${missingPrevPrev}: the same logits and gradients`, async () => {
      await initBackend({ backend: 'cpu' });
      const name = 'test_user_conv_bn';
      registerOp(name, (spec) => new UserConvBn(spec.name, spec.channels, spec.rng), { kind: 'conv' });
      try {
        // A subset of the built-ins keeps the cpu run short (the B = 2 case covers all eight).
        const ops = ['none', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'dil_conv_3x3', name];
        const net = new Supernet({ ...TINY, blocks: 3, ops, missingPrevPrev }, { name: `stacked_user_op_${missingPrevPrev}`, seed: 4 });
        spread(net);
        const x = input([2, 17, 17, 3], 10);
        expectStackedEqualsPlain(net, x);
        x.dispose();
        net.dispose();
      } finally {
        unregisterOp(name);
      }
    });
  }

  it("uses batch statistics in eval mode too and leaves the cells' running statistics alone", async () => {
    await initBackend({ backend: 'cpu' });
    const net = new Supernet(TINY, { name: 'stacked_eval' });
    const x = input([2, 21, 21, 3], 12);
    const bn = net.namedBuffers();
    const cellBuffers = [...bn].filter(([path]) => path.startsWith('cell_') || path.startsWith('edge_'));
    expect(cellBuffers.length).toBeGreaterThan(0);
    const before = cellBuffers.map(([, v]) => Array.from(v.dataSync()));
    const train = tf.tidy(() => net.forward(x));
    expect(cellBuffers.map(([, v]) => Array.from(v.dataSync()))).toEqual(before);
    net.eval();
    const evaluated = tf.tidy(() => net.forward(x));
    expect(evaluated.shape).toEqual([2, 21, 21, 3]);
    expect(Number.isFinite(tf.sum(tf.abs(evaluated)).dataSync()[0]!)).toBe(true);
    // The stem and heads follow the module mode (running statistics in eval), the cells do not: the
    // eval logits differ from train mode, but stay finite and well scaled.
    expect(tf.tidy(() => tf.max(tf.abs(evaluated)).dataSync()[0]!)).toBeLessThan(1e3);
    tf.dispose([x, train, evaluated]);
    net.dispose();
  });
});
