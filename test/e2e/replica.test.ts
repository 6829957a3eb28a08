import { describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import { describeModel } from '@autodeeplab/optim';
import { Supernet } from '@autodeeplab/search-space';

const TINY = { layers: 2, blocks: 1, filterMultiplier: 2, scales: [4, 8] as (4 | 8)[], numClasses: 2 };

/** optim rebuilds a model in its gradient workers from the model's own `replica()` descriptor. */
describe('describeModel of a Supernet', () => {
  it("rebuilds a Supernet with the main copy's forward options (fused, recompute, replay budget)", async () => {
    await initBackend({ backend: 'cpu' });
    for (const options of [{}, { fused: false, recompute: false, replayBudgetBytes: 12_345 }]) {
      const net = new Supernet(TINY, { name: 'described', ...options });
      const { module, export: name, args } = describeModel(net);
      expect(module).toBe('@autodeeplab/search-space');
      expect(name).toBe('Supernet');
      // Through structured cloning, as it travels to a worker.
      const [config, rebuiltOptions] = structuredClone(args) as ConstructorParameters<typeof Supernet>;
      const replica = new Supernet(config, rebuiltOptions);
      for (const key of ['name', 'fused', 'recompute', 'replayBudgetBytes'] as const) expect(replica[key], key).toEqual(net[key]);
      expect(replica.config).toEqual(net.config);
      replica.dispose();
      net.dispose();
    }
  });
});
