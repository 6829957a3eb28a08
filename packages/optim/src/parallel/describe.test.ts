import { describe, expect, it } from 'vitest';
import { UserInputError, initBackend } from '@autodeeplab/core';
import { TinySearchModel } from '../testing/tiny.js';
import { describeModel } from './describe.js';
import type { ModelDescriptor } from './protocol.js';

// The Supernet's own descriptor (its config and forward options through structured cloning) is
// tested across packages in test/e2e/replica.test.ts.
describe('describeModel', () => {
  it("uses the model's replica(), a given descriptor first, and refuses a model that cannot be described", async () => {
    await initBackend({ backend: 'cpu' });
    const own: ModelDescriptor = { module: '/abs/models.ts', export: 'tinyModel', args: ['replica', { seed: 4 }] };
    const given: ModelDescriptor = { module: '@autodeeplab/model', export: 'buildNetwork', args: [] };
    const described = new (class extends TinySearchModel {
      replica(): ModelDescriptor {
        return own;
      }
    })('described');
    const plain = new TinySearchModel('plain');
    try {
      expect(describeModel(described)).toEqual(own);
      expect(describeModel(described, given)).toBe(given);
      expect(describeModel(plain, given)).toBe(given);
      expect(() => describeModel(plain)).toThrow(UserInputError);
      expect(() => describeModel(plain)).toThrow(/replica/);
    } finally {
      described.dispose();
      plain.dispose();
    }
  });
});
