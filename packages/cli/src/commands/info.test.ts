import { describe, expect, it } from 'vitest';
import { runCaptured } from '../testing.js';

describe('autodeeplab info', () => {
  it("reports the paper's parameter counts for S, M and L (Table 2)", async () => {
    const expected = { S: 10.15e6, M: 21.62e6, L: 44.42e6 };
    for (const [preset, params] of Object.entries(expected)) {
      const r = await runCaptured(['info', 'paper', '--preset', preset, '--json', '--backend', 'cpu']);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.kind).toBe('network');
      expect(Math.abs(report.parameters - params)).toBeLessThan(0.005e6);
      expect(report.memory.parameterBytes).toBe(4 * report.parameters);
      expect(report.network.path).toEqual([4, 4, 4, 8, 16, 8, 16, 16, 32, 32, 16, 8]);
    }
  });

  it('Multi-Adds grow with the input area', async () => {
    const small = JSON.parse((await runCaptured(['info', 'paper', '--json', '--height', '513', '--width', '513', '--backend', 'cpu'])).stdout);
    const large = JSON.parse((await runCaptured(['info', 'paper', '--json', '--height', '1025', '--width', '1025', '--backend', 'cpu'])).stdout);
    expect(large.multiAddsPerImage / small.multiAddsPerImage).toBeGreaterThan(3.5);
    expect(large.multiAddsPerImage / small.multiAddsPerImage).toBeLessThan(4.5);
  });

  it('an unknown target is a user error', async () => {
    const r = await runCaptured(['info', 'no-such-genotype', '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'no-such-genotype' is not a built-in genotype");
  });
});
