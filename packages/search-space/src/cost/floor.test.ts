import { describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import { cellChannels, nodeSize, parseSearchSpaceConfig, type SearchSpaceConfigInput } from '../config.js';
import { planTrellis } from '../supernet.js';
import { countSupernetParameters, estimateCost } from './estimate.js';
import { supernetMemoryFloor } from './floor.js';

/** The floor summed node by node over the whole trellis (no extrapolation), in bytes. */
function directFloor(layers: number, size: number, batch: number): number {
  const config = parseSearchSpaceConfig({ layers, filterMultiplier: 2, numClasses: 3 });
  let values = batch * size * size * 3;
  for (const node of planTrellis(config).nodes) values += batch * nodeSize(size, node.scale) ** 2 * cellChannels(config, node.scale);
  return 4 * (2 * countSupernetParameters(config).total + values);
}

describe('supernetMemoryFloor', () => {
  it('equals the node-by-node sum, deep trellises (extrapolated) included', () => {
    for (const layers of [1, 3, 12, 13, 40]) {
      expect(supernetMemoryFloor({ layers, filterMultiplier: 2, numClasses: 3 }, { height: 65, width: 65, batch: 2 }).bytes, `L=${layers}`).toBe(
        directFloor(layers, 65, 2),
      );
    }
  });

  it('is instant for absurd sizes and grows with them', () => {
    const started = performance.now();
    const floor = supernetMemoryFloor({ layers: 100_000 }, { height: 321, width: 321, batch: 2 });
    expect(performance.now() - started).toBeLessThan(1000);
    // 100 000 layers of the default search space: hundreds of billions of parameters.
    expect(floor.parameters).toBeGreaterThan(4e11);
    expect(floor.bytes).toBeGreaterThan(2 ** 40);
  });

  it('stays below the measured estimate of a training step (it is a floor)', async () => {
    await initBackend({ backend: 'wasm' });
    const config: SearchSpaceConfigInput = { layers: 3, filterMultiplier: 2, numClasses: 3, scales: [4, 8] };
    const input = { height: 33, width: 33, batch: 2 };
    const floor = supernetMemoryFloor(config, input);
    const estimate = estimateCost(config, input);
    // trainingPeakBytes counts what a step adds on top of the weights and the input.
    const inputBytes = 4 * 2 * 33 * 33 * 3;
    expect(floor.bytes - floor.parameterBytes / 2 - inputBytes).toBeLessThan(estimate.trainingPeakBytes);
  });
});
