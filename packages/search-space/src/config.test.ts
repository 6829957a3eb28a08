import { describe, expect, it } from 'vitest';
import { UserInputError } from '@autodeeplab/core';
import { BUILTIN_OPS } from '@autodeeplab/ops';
import { SearchSpaceConfigSchema, nodeSize, parseSearchSpaceConfig, stemChannels } from './config.js';

describe('SearchSpaceConfigSchema', () => {
  it("defaults to the paper's search space (paper §3, §5.1)", () => {
    const config = parseSearchSpaceConfig({});
    expect(config).toMatchObject({ layers: 12, blocks: 5, filterMultiplier: 8, scales: [4, 8, 16, 32], numClasses: 19, affine: false });
    expect(config.ops).toEqual(['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5']);
    expect(config.ops).toEqual([...BUILTIN_OPS]);
  });

  it('accepts a small search space', () => {
    const config = parseSearchSpaceConfig({
      layers: 3,
      blocks: 2,
      filterMultiplier: 4,
      scales: [4, 8, 16],
      ops: ['skip_connect', 'sep_conv_3x3'],
      numClasses: 2,
    });
    expect(config.scales).toEqual([4, 8, 16]);
    expect(stemChannels(config)).toEqual([4, 8]);
  });

  it('names an unknown op, with the registered ones, in a UserInputError', () => {
    const attempt = () => parseSearchSpaceConfig({ ops: ['sep_conv_3x3', 'sep_conv_7x7'] }, 'search.json');
    expect(attempt).toThrow(UserInputError);
    expect(attempt).toThrow(/search\.json.*ops\[1\].*unknown op 'sep_conv_7x7'.*registered ops: .*dil_conv_5x5/);
  });

  it('rejects duplicate ops, bad scales, a cell of zero ops and unknown fields', () => {
    expect(() => parseSearchSpaceConfig({ ops: ['sep_conv_3x3', 'sep_conv_3x3'] })).toThrow(/ops\[1\].*listed twice/);
    expect(() => parseSearchSpaceConfig({ scales: [8, 16] })).toThrow(/first scale must be 4/);
    expect(() => parseSearchSpaceConfig({ scales: [4, 16] })).toThrow(/scales\[1\].*expected 8, found 16/);
    expect(() => parseSearchSpaceConfig({ ops: ['none'] })).toThrow(/at least one op that is not a zero op/);
    expect(() => parseSearchSpaceConfig({ layers: 0 })).toThrow(/layers/);
    expect(() => parseSearchSpaceConfig({ filters: 8 })).toThrow(/filters/);
    expect(SearchSpaceConfigSchema.safeParse({ blocks: 2.5 }).success).toBe(false);
  });

  it('defines node sizes as ceil(size / s)', () => {
    expect([4, 8, 16, 32].map((s) => nodeSize(321, s))).toEqual([81, 41, 21, 11]);
    expect([4, 8, 16, 32].map((s) => nodeSize(64, s))).toEqual([16, 8, 4, 2]);
  });
});
