import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend, parseBackendName } from './backend.js';

describe('initBackend', () => {
  it('falls through the optional tfjs-node packages to wasm and says why each was skipped', async () => {
    const info = await initBackend({ env: {} });
    // tfjs-node(-gpu) cannot be installed on our machines (their install downloads libtensorflow).
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.skipped.map((s) => s.candidate)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    expect(info.skipped.every((s) => s.reason === 'not installed')).toBe(true);
  });

  it('honours AUTODEEPLAB_BACKEND and the option', async () => {
    expect((await initBackend({ env: { AUTODEEPLAB_BACKEND: 'cpu' } })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend({ backend: 'wasm', env: { AUTODEEPLAB_BACKEND: 'cpu' } })).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('fails clearly when a forced backend is not available', async () => {
    await expect(initBackend({ backend: 'tensorflow' })).rejects.toThrow(
      /backend 'tensorflow' is not available \(@tensorflow\/tfjs-node-gpu: not installed; @tensorflow\/tfjs-node: not installed\)/,
    );
    await expect(initBackend({ env: { AUTODEEPLAB_BACKEND: 'gpu' } })).rejects.toThrow(
      /AUTODEEPLAB_BACKEND: expected one of auto, tensorflow, wasm, cpu; found 'gpu'/,
    );
    expect(() => parseBackendName('webgl', '--backend')).toThrow(/--backend/);
  });
});
