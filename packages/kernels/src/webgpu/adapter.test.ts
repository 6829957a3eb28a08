import { describe, expect, it } from 'vitest';
import { NoAdapterError, findAdapter, isSoftwareAdapter, platformDawnBackends, type DawnAdapter, type DawnModule } from './adapter.js';

/** A Dawn stand-in whose backends offer the given adapters per feature level, recording what was asked. */
function fakeDawn(offers: Record<string, Partial<Record<'core' | 'compatibility', DawnAdapter['info']>>>): DawnModule & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    globals: {},
    create: (flags) => {
      const backend = flags[0]!.replace('backend=', '');
      return {
        requestAdapter: async ({ featureLevel }) => {
          asked.push(`${backend}/${featureLevel}`);
          const info = offers[backend]?.[featureLevel as 'core' | 'compatibility'];
          return info ? { info, features: new Set<string>(), limits: {}, requestDevice: async () => ({}) } : null;
        },
      };
    },
  };
}

const GPU = { vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H200', description: 'NVIDIA driver' };
const LLVMPIPE = { vendor: '', architecture: '', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL version OpenGL ES 3.2 Mesa 22.3.6' };

describe('findAdapter', () => {
  it('takes a hardware adapter over a software one, and says which backend and feature level', async () => {
    const dawn = fakeDawn({ opengles: { compatibility: LLVMPIPE }, vulkan: { core: GPU } });
    const found = await findAdapter(dawn, { dawnBackend: undefined, adapter: 'any' }, { vulkanLoader: true });
    expect(found.description).toMatchObject({ device: 'NVIDIA H200', dawnBackend: 'vulkan', featureLevel: 'core', software: false });
  });

  it('falls back to a software adapter when any is accepted, and refuses it when only hardware is', async () => {
    const dawn = fakeDawn({ opengles: { compatibility: LLVMPIPE } });
    const found = await findAdapter(dawn, { adapter: 'any', dawnBackend: 'opengles' }, { vulkanLoader: true });
    expect(found.description).toMatchObject({ dawnBackend: 'opengles', featureLevel: 'compatibility', software: true });
    const refused = findAdapter(fakeDawn({ opengles: { compatibility: LLVMPIPE } }), { adapter: 'hardware', dawnBackend: 'opengles' }, { vulkanLoader: true });
    await expect(refused).rejects.toThrow(NoAdapterError);
    await expect(refused).rejects.toThrow(
      /opengles \(core\): no adapter; opengles \(compatibility\): llvmpipe.* is a software rasteriser, not accepted as hardware/,
    );
  });

  it('asks only Vulkan on Linux for hardware, and not at all when its loader is missing, saying so', async () => {
    expect(platformDawnBackends('hardware', 'linux')).toEqual(['vulkan']);
    expect(platformDawnBackends('any', 'linux')).toEqual(['vulkan', 'opengles']);
    expect(platformDawnBackends('any', 'darwin')).toEqual(['metal']);
    const dawn = fakeDawn({ vulkan: { core: GPU } });
    const missing = findAdapter(dawn, { adapter: 'hardware' }, { vulkanLoader: false, platform: 'linux' });
    await expect(missing).rejects.toThrow('vulkan: the Vulkan loader libvulkan.so.1 is not installed');
    expect(dawn.asked).toEqual([]);
  });

  it('a software adapter only when asked for: software skips a GPU', async () => {
    const dawn = fakeDawn({ vulkan: { core: GPU }, opengles: { compatibility: LLVMPIPE } });
    const found = await findAdapter(dawn, { adapter: 'software' }, { vulkanLoader: true, platform: 'linux' });
    expect(found.description.device).toBe(LLVMPIPE.device);
  });

  it('names software rasterisers by their renderer or Dawn’s fallback flag', () => {
    expect(isSoftwareAdapter(LLVMPIPE)).toBe(true);
    expect(isSoftwareAdapter({ ...GPU, device: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ ...GPU, isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter(GPU)).toBe(false);
  });
});
