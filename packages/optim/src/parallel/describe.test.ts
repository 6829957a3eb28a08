import { describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import { Supernet } from '@autodeeplab/search-space';
import { describeModel } from './describe.js';

const TINY = { layers: 2, blocks: 1, filterMultiplier: 2, scales: [4, 8] as (4 | 8)[], numClasses: 2 };

describe('describeModel', () => {
  it("rebuilds a Supernet with the main copy's forward options (fused, checkpoint, replay budget)", async () => {
    await initBackend({ backend: 'cpu' });
    for (const options of [{}, { fused: false, checkpoint: false, replayBudgetBytes: 12_345 }]) {
      const net = new Supernet(TINY, { name: 'described', ...options });
      const { export: name, args } = describeModel(net);
      expect(name).toBe('Supernet');
      // Through structured cloning, as it travels to a worker.
      const [config, rebuiltOptions] = structuredClone(args) as ConstructorParameters<typeof Supernet>;
      const replica = new Supernet(config, rebuiltOptions);
      for (const key of ['name', 'fused', 'checkpoint', 'replayBudgetBytes'] as const) expect(replica[key], key).toEqual(net[key]);
      expect(replica.config).toEqual(net.config);
      replica.dispose();
      net.dispose();
    }
  });
});
