import { describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import { Supernet } from '../supernet.js';
import { countSupernetParameters } from './estimate.js';
import { referenceCounts } from '../testing/reference-counts.js';

const SMALL = { layers: 4, blocks: 3, filterMultiplier: 4, scales: [4, 8, 16] as (4 | 8 | 16)[], numClasses: 5 };
const PAPER = { layers: 12, blocks: 5, filterMultiplier: 8, scales: [4, 8, 16, 32] as (4 | 8 | 16 | 32)[], numClasses: 19 };

describe('parameter count', () => {
  it('of a small supernet agrees with the count from the config, a missing H^{l-2} dropped or substituted', async () => {
    await initBackend({ backend: 'cpu' });
    for (const missingPrevPrev of ['drop', 'substitute'] as const) {
      const config = { ...SMALL, missingPrevPrev };
      const net = new Supernet(config, { name: `small_${missingPrevPrev}` });
      const expected = referenceCounts(config);
      expect(net.beta.size).toBe(expected.betaSize);
      expect(net.parameterCount()).toBe(expected.parameters);
      expect(countSupernetParameters(config).total).toBe(expected.parameters);
      net.dispose();
    }
  });

  // The paper's supernet has ~40k variables: one build in this file (it takes tens of seconds).
  it("of the paper's supernet is counted from the config without building it", () => {
    const expected = referenceCounts(PAPER);
    const arch = 160 + expected.betaSize;
    expect(countSupernetParameters({})).toEqual({ total: expected.parameters, arch, weight: expected.parameters - arch });
    // The figures the README quotes: 7 nodes lose the B = 5 edges of their missing H^{l-2} when it is dropped.
    expect(expected.parameters).toBe(45_605_561);
    expect(countSupernetParameters({ missingPrevPrev: 'substitute' }).total).toBe(referenceCounts({ ...PAPER, missingPrevPrev: 'substitute' }).parameters);
    expect(countSupernetParameters({ missingPrevPrev: 'substitute' }).total).toBe(47_739_481);
  });

  it('of the built paper supernet (L=12, B=5, F=8, 4 scales, 8 ops) agrees with the count from the config', async () => {
    await initBackend({ backend: 'cpu' });
    const net = new Supernet({}, { name: 'paper' });
    expect(net.config).toMatchObject(PAPER);
    const expected = referenceCounts(PAPER);
    expect(net.alpha.shape).toEqual([20, 8]);
    expect(net.beta.size).toBe(expected.betaSize);
    expect(net.parameterCount()).toBe(expected.parameters);
    expect(net.parameterCount('arch')).toBe(20 * 8 + expected.betaSize);
    net.dispose();
  });
});
