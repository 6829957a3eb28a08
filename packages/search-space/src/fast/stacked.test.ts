import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend, watchKernels } from '@autodeeplab/core';
import { Supernet } from '../supernet.js';
import { TINY, input, loss, spread } from '../testing/supernet-fixtures.js';

describe('stacked forward: recomputed nodes (wasm)', () => {
  it('with gradientTargets: the same gradients of the targets, and recomputed nodes skip the others (no weight gradient in an arch step)', async () => {
    await initBackend({ backend: 'wasm' });
    const net = new Supernet(TINY, { name: 'targets' });
    spread(net);
    const x = input([2, 17, 17, 3], 11);
    const arch = net.archParameters();
    // Filter gradients of the convolutions: what a weight gradient costs.
    const filterGradients = (targets: tf.Variable[] | undefined) => {
      let count = 0;
      const stop = watchKernels({ before: (name) => void (/BackpropFilter$/.test(name) && count++) });
      try {
        const { value, grads } = tf.variableGrads(() => loss(net.forward(x, targets ? { gradientTargets: targets } : {}), 3), arch);
        value.dispose();
        return { count, grads };
      } finally {
        stop();
      }
    };
    const all = filterGradients(undefined);
    const targeted = filterGradients(arch);
    for (const v of arch) {
      expect(Array.from(targeted.grads[v.name]!.dataSync()), v.name).toEqual(Array.from(all.grads[v.name]!.dataSync()));
    }
    // Without targets every node's cell and transition filters get gradients; with them, only
    // kernels outside the recomputed nodes (none here: the stem and heads are not differentiated).
    expect(all.count).toBeGreaterThan(0);
    expect(targeted.count).toBe(0);
    // A weight step (α and β not differentiated, so taken as constants inside the nodes): the same
    // weight gradients as when everything is differentiated.
    const weights = net.weightParameters();
    const gradients = (targets: tf.Variable[] | undefined) =>
      tf.variableGrads(() => loss(net.forward(x, targets ? { gradientTargets: targets } : {}), 3), weights).grads;
    const reference = gradients(undefined);
    const weightStep = gradients(weights);
    for (const v of weights) {
      expect(Array.from(weightStep[v.name]!.dataSync()), v.name).toEqual(Array.from(reference[v.name]!.dataSync()));
    }
    tf.dispose([...Object.values(all.grads), ...Object.values(targeted.grads), ...Object.values(reference), ...Object.values(weightStep), x]);
    net.dispose();
  });

  it("replays the cells' convolutions in the recomputation: the atrous ones always, the sep convs' within the budget, with the same gradients", async () => {
    await initBackend({ backend: 'wasm' });
    const net = new Supernet(TINY, { name: 'replay' });
    const x = input([2, 17, 17, 3], 5);
    // Launches in `run` of depthwise convs (only the cells' sep convs have them) and of dilated convs
    // (the cells' atrous convs, and one atrous conv per head, outside the recomputed nodes).
    const launches = (run: () => void) => {
      const count = { depthwise: 0, dilated: 0 };
      const stop = watchKernels({
        before: (name, attrs) => {
          if (name === 'DepthwiseConv2dNative') count.depthwise++;
          if (name === 'Conv2D' && [attrs?.['dilations'] ?? 1].flat().some((d) => Number(d) > 1)) count.dilated++;
        },
      });
      try {
        run();
      } finally {
        stop();
      }
      return count;
    };
    const vars = net.parameters();
    const train = (replayBudgetBytes: number) => {
      let grads: tf.NamedTensorMap = {};
      const count = launches(() => {
        const result = tf.variableGrads(() => loss(net.forward(x, { replayBudgetBytes }), 0), vars);
        result.value.dispose();
        grads = result.grads;
      });
      return { ...count, grads };
    };
    const forward = launches(() => tf.tidy(() => void net.forward(x).dataSync()));
    const all = train(Infinity);
    const none = train(0);
    const some = train(40_000);
    expect(forward.depthwise).toBeGreaterThan(10);
    expect(forward.dilated).toBeGreaterThan(10);
    // The atrous convs run once whatever the budget (nothing recomputed); the depthwise convs once
    // with every output kept, twice with none, in between with some.
    for (const run of [all, none, some]) expect(run.dilated).toBe(forward.dilated);
    expect(all.depthwise).toBe(forward.depthwise);
    expect(none.depthwise).toBe(2 * forward.depthwise);
    expect(some.depthwise).toBeGreaterThan(forward.depthwise);
    expect(some.depthwise).toBeLessThan(2 * forward.depthwise);
    // A replayed output is the recomputed one: the same bits.
    for (const v of vars) {
      const reference = Array.from(none.grads[v.name]!.dataSync());
      expect(Array.from(all.grads[v.name]!.dataSync()), v.name).toEqual(reference);
      expect(Array.from(some.grads[v.name]!.dataSync()), v.name).toEqual(reference);
    }
    tf.dispose([all, none, some].flatMap((r) => Object.values(r.grads)));
    x.dispose();
    net.dispose();
  });

  it("two forwards in one gradient computation: the second keeps the first one's replayed outputs", async () => {
    await initBackend({ backend: 'wasm' });
    const net = new Supernet(TINY, { name: 'two_forwards' });
    const [x1, x2] = [input([2, 17, 17, 3], 1), input([2, 17, 17, 3], 2)];
    const vars = net.archParameters();
    const both = tf.variableGrads(() => tf.add(loss(net.forward(x1), 3), loss(net.forward(x2), 4)) as tf.Scalar, vars);
    const one = tf.variableGrads(() => loss(net.forward(x1), 3), vars);
    const two = tf.variableGrads(() => loss(net.forward(x2), 4), vars);
    for (const v of vars) {
      const sum = tf.add(one.grads[v.name]!, two.grads[v.name]!);
      const scale = Math.max(...Array.from(sum.dataSync(), Math.abs));
      const worst = Math.max(...Array.from(tf.sub(both.grads[v.name]!, sum).dataSync(), Math.abs));
      expect(worst, v.name).toBeLessThan(1e-5 * scale);
    }
    tf.dispose([both, one, two].flatMap((g) => [g.value, ...Object.values(g.grads)]));
    tf.dispose([x1, x2]);
    net.dispose();
  });
});
