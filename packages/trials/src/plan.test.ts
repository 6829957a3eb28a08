import { describe, expect, it } from 'vitest';
import { compareTrialIds, parseTrialId, planTrials } from './plan.js';

describe('trial ids', () => {
  it('parse back to the seed and swept keys that planTrials put in them', () => {
    const sweep = [
      { key: 'search.weightLr', values: [0.01, -0.5] },
      { key: 'search.arch', values: ['a b', { x: 1 }] },
    ];
    const trials = planTrials({ seeds: 2, firstSeed: 9, sweep });
    expect(trials).toHaveLength(8);
    for (const trial of trials) {
      const parsed = parseTrialId(trial.id);
      expect(parsed?.seed).toBe(trial.seed);
      expect(parsed?.fields.map((f) => f.key)).toEqual(Object.keys(trial.point));
    }
    expect(parseTrialId('seed-3_search.weightLr--0.5')?.fields).toEqual([{ key: 'search.weightLr', idValue: '-0.5' }]);
    expect(parseTrialId('my-run')).toBeNull();
    expect(parseTrialId('seed-1_nodash')).toBeNull();
  });

  it('sort by number, not by character', () => {
    expect(['seed-10', 'seed-2', 'seed-1_a-3', 'seed-1'].sort(compareTrialIds)).toEqual(['seed-1', 'seed-1_a-3', 'seed-2', 'seed-10']);
  });
});
