import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend, parseBackendName, usesGpuDevice } from './backend.js';

describe('initBackend', () => {
  it('falls through webgpu (no GPU here) and the optional tfjs-node packages to wasm and says why each was skipped', async () => {
    const info = await initBackend({ env: {} });
    // No GPU on our machines: auto takes no software rasteriser (wasm is faster on a CPU), and
    // tfjs-node(-gpu) cannot be installed (their install downloads libtensorflow).
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.skipped.map((s) => s.candidate)).toEqual([
      'webgpu (Dawn) + @tensorflow/tfjs-backend-webgpu',
      '@tensorflow/tfjs-node-gpu',
      '@tensorflow/tfjs-node',
    ]);
    expect(info.skipped[0]!.reason).toMatch(/^no WebGPU adapter: vulkan.*WebGPU on Linux runs on Vulkan/);
    expect(info.skipped.slice(1).every((s) => s.reason === 'not installed')).toBe(true);
  });

  it('webgpu asked for by name runs on a software adapter, reported as not a GPU', async () => {
    const info = await initBackend({ backend: 'webgpu', env: {} });
    expect(tf.getBackend()).toBe('webgpu');
    expect(info).toMatchObject({ name: 'webgpu', gpu: false, adapter: { software: true } });
    // Only a GPU: refused, with the adapter that was found and why.
    await expect(initBackend({ backend: 'webgpu', env: { AUTODEEPLAB_WEBGPU_ADAPTER: 'hardware' } })).rejects.toThrow(
      /backend 'webgpu' is not available \(webgpu \(Dawn\) \+ @tensorflow\/tfjs-backend-webgpu: no WebGPU adapter: vulkan: /,
    );
    await expect(initBackend({ backend: 'webgpu', env: { AUTODEEPLAB_DAWN_BACKEND: 'opengl' } })).rejects.toThrow(
      /AUTODEEPLAB_DAWN_BACKEND: expected one of vulkan, opengles, metal, d3d12; found 'opengl'/,
    );
    await initBackend({ backend: 'wasm' });
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
      /AUTODEEPLAB_BACKEND: expected one of auto, webgpu, tensorflow, wasm, cpu; found 'gpu'/,
    );
    expect(() => parseBackendName('webgl', '--backend')).toThrow(/--backend/);
  });

  it('counts tfjs-node-gpu as a GPU only when its libtensorflow found one (its backend says so)', () => {
    expect(usesGpuDevice({ isUsingGpuDevice: true })).toBe(true);
    expect(usesGpuDevice({ isUsingGpuDevice: false })).toBe(false);
    expect(usesGpuDevice({})).toBe(false);
    expect(usesGpuDevice(null)).toBe(false);
  });
});
