import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import * as searchSpace from './index.js';
import { Supernet, type SupernetOptions } from './supernet.js';

const TINY = { layers: 2, blocks: 2, filterMultiplier: 2, scales: [4, 8] as (4 | 8)[], numClasses: 3 };

describe('Supernet.replica', () => {
  it('describes a supernet that, rebuilt from structured-cloned args, has the same options, parameters and logits', async () => {
    await initBackend({ backend: 'cpu' });
    const cases: [ConstructorParameters<typeof Supernet>[0], SupernetOptions][] = [
      [TINY, {}],
      [TINY, { fused: false, recompute: false, replayBudgetBytes: 12_345 }],
      // The config carries how a missing H^{l-2} is handled (the structure: which cell edges exist).
      [{ ...TINY, missingPrevPrev: 'substitute' }, {}],
    ];
    for (const [config, options] of cases) {
      const net = new Supernet(config, { name: 'replica_source', seed: 5, ...options });
      const descriptor = net.replica();
      expect(descriptor.module).toBe('@autodeeplab/search-space');
      expect((searchSpace as Record<string, unknown>)[descriptor.export]).toBe(Supernet);

      const args = structuredClone(descriptor.args) as ConstructorParameters<typeof Supernet>;
      const copy = new Supernet(...args);
      expect(copy.config).toEqual(net.config);
      expect([copy.name, copy.fused, copy.recompute, copy.replayBudgetBytes]).toEqual([net.name, net.fused, net.recompute, net.replayBudgetBytes]);
      const shapes = (m: Supernet) => [...m.stateDict()].map(([path, v]) => [path, v.shape]);
      expect(shapes(copy)).toEqual(shapes(net));

      // The weights come from the main copy (as a worker receives them): then every step is the same.
      copy.loadStateDict(net.stateDict());
      const x = tf.tensor4d(new Rng(1).normals(2 * 17 * 17 * 3), [2, 17, 17, 3]);
      const [a, b] = [net, copy].map((m) => tf.tidy(() => Array.from(m.forward(x).dataSync())));
      expect(b).toEqual(a);
      x.dispose();
      net.dispose();
      copy.dispose();
    }
  });
});
