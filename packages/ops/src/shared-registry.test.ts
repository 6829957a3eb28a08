import { describe, expect, it, vi } from 'vitest';
import { Identity } from './builtins.js';
import { getStackedForm, hasOp, listOps, registerOp } from './index.js';

describe('two copies of the package in one process', () => {
  it('share one registry: an op registered through either is known to both, and the built-ins load once', async () => {
    registerOp('user_identity', (spec) => new Identity(spec.name), { kind: 'identity' });
    // A fresh module instance of this package (and of core), as a second installed copy would be.
    vi.resetModules();
    const copy = await import('./index.js');
    expect(copy.hasOp).not.toBe(hasOp);
    expect(copy.hasOp('user_identity')).toBe(true);
    expect(copy.listOps()).toEqual(listOps());
    copy.registerOp('user_identity_2', (spec) => new copy.Identity(spec.name), { kind: 'identity' });
    expect(hasOp('user_identity_2')).toBe(true);
    expect(copy.getStackedForm('sep_conv_3x3')).toBe(getStackedForm('sep_conv_3x3'));
  });
});
