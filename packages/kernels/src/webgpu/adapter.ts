/**
 * Finding a WebGPU adapter through Dawn's Node binding (the npm package `webgpu`). Dawn runs on one
 * of several native APIs; which ones a machine has depends on its OS and drivers, so each is asked
 * in turn and every refusal is kept, to tell the user exactly why no adapter was found.
 */

/** Dawn's native backends. */
export type DawnBackend = 'vulkan' | 'opengles' | 'metal' | 'd3d12';
export const DAWN_BACKENDS: readonly DawnBackend[] = ['vulkan', 'opengles', 'metal', 'd3d12'];

/** Which adapters may be used: a GPU, a software rasteriser (Mesa's llvmpipe, SwiftShader), or either. */
export type AdapterKind = 'hardware' | 'software' | 'any';
export const ADAPTER_KINDS: readonly AdapterKind[] = ['hardware', 'software', 'any'];

export interface WebGpuOptions {
  /**
   * Dawn's backend; default: the platform's in order (Linux: vulkan, then opengles unless only
   * hardware is accepted, since GPUs on Linux come with Vulkan and Mesa's OpenGL ES is a software
   * rasteriser; macOS: metal; Windows: d3d12, vulkan).
   */
  dawnBackend?: DawnBackend;
  /** Which adapters to accept; default `any` (a hardware adapter first). */
  adapter?: AdapterKind;
  /** Passed to `requestAdapter`: which GPU of several. Default `high-performance`. */
  powerPreference?: 'high-performance' | 'low-power';
}

/** What a user needs to know about the adapter in use (reported by `doctor` and in run logs). */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  dawnBackend: DawnBackend;
  /** `core` or `compatibility` (the OpenGL ES path offers only the latter). */
  featureLevel: 'core' | 'compatibility';
  software: boolean;
}

/** The parts of Dawn's GPU, adapter and device objects that we use. */
export interface DawnGpu {
  requestAdapter(options: { featureLevel: string; powerPreference: string }): Promise<DawnAdapter | null>;
}
export interface DawnAdapter {
  info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean };
  features: ReadonlySet<string>;
  limits: Record<string, number>;
  requestDevice(descriptor: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<unknown>;
}
export interface DawnModule {
  create(flags: string[]): DawnGpu;
  globals: Record<string, unknown>;
}

export interface FoundAdapter {
  adapter: DawnAdapter;
  gpu: DawnGpu;
  description: AdapterDescription;
}

const SOFTWARE_RENDERERS = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render/i;

/** A software rasteriser: Dawn's fallback flag, or a renderer name known to run on the CPU. */
export function isSoftwareAdapter(info: DawnAdapter['info']): boolean {
  return info.isFallbackAdapter === true || SOFTWARE_RENDERERS.test(`${info.device} ${info.description} ${info.architecture}`);
}

export function platformDawnBackends(accept: AdapterKind = 'any', platform: NodeJS.Platform = process.platform): DawnBackend[] {
  if (platform === 'darwin') return ['metal'];
  if (platform === 'win32') return ['d3d12', 'vulkan'];
  return accept === 'hardware' ? ['vulkan'] : ['vulkan', 'opengles'];
}

const LIBRARY_DIRS = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib', `/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`];

/**
 * Whether Linux's Vulkan loader can be found (LD_LIBRARY_PATH, the usual library folders, or the
 * dynamic linker's cache). Asked before Dawn, which otherwise prints its own warning when it is
 * missing, on every run of a machine without Vulkan.
 */
export async function hasVulkanLoader(env: Record<string, string | undefined> = process.env): Promise<boolean> {
  // Imported here: this package also serves bundles for the browser, where Dawn is not used.
  const { existsSync, readFileSync } = await import('node:fs');
  const join = (dir: string, file: string) => `${dir.replace(/\/$/, '')}/${file}`;
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIBRARY_DIRS, `/usr${LIBRARY_DIRS.at(-1)}`];
  if (dirs.some((dir) => existsSync(join(dir, 'libvulkan.so.1')))) return true;
  try {
    return readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1');
  } catch {
    return false;
  }
}

/** What `findAdapter` would otherwise look up on this machine (for tests). */
export interface MachineFacts {
  platform?: NodeJS.Platform;
  vulkanLoader?: boolean;
}

/** Why no adapter was found, one entry per Dawn backend and feature level asked. */
export class NoAdapterError extends Error {
  constructor(readonly attempts: string[]) {
    super(`no WebGPU adapter: ${attempts.join('; ')}`);
    this.name = 'NoAdapterError';
  }
}

/**
 * Asks Dawn's backends in turn (core feature level first, then compatibility) and returns the first
 * adapter of the accepted kind; with `any`, a hardware adapter anywhere wins over a software one.
 */
export async function findAdapter(dawn: DawnModule, options: WebGpuOptions = {}, machine: MachineFacts = {}): Promise<FoundAdapter> {
  const accept = options.adapter ?? 'any';
  const platform = machine.platform ?? process.platform;
  const backends = options.dawnBackend ? [options.dawnBackend] : platformDawnBackends(accept, platform);
  const powerPreference = options.powerPreference ?? 'high-performance';
  // Mesa's EGL needs a platform when there is no display; surfaceless works headless.
  if (backends.includes('opengles') && platform === 'linux') process.env.EGL_PLATFORM ??= 'surfaceless';
  const attempts: string[] = [];
  let softwareFallback: FoundAdapter | undefined;
  for (const dawnBackend of backends) {
    if (dawnBackend === 'vulkan' && platform === 'linux' && !(machine.vulkanLoader ?? (await hasVulkanLoader()))) {
      attempts.push('vulkan: the Vulkan loader libvulkan.so.1 is not installed');
      continue;
    }
    const gpu = dawn.create([`backend=${dawnBackend}`]);
    for (const featureLevel of ['core', 'compatibility'] as const) {
      const adapter = await gpu.requestAdapter({ featureLevel, powerPreference });
      if (adapter == null) {
        attempts.push(`${dawnBackend} (${featureLevel}): no adapter`);
        continue;
      }
      const software = isSoftwareAdapter(adapter.info);
      const { vendor, architecture, device, description } = adapter.info;
      const found = { adapter, gpu, description: { vendor, architecture, device, description, dawnBackend, featureLevel, software } };
      const name = device || description || 'unnamed adapter';
      if (!software && accept !== 'software') return found;
      if (software && accept === 'software') return found;
      if (software && accept === 'any') softwareFallback ??= found;
      attempts.push(`${dawnBackend} (${featureLevel}): ${name} is a ${software ? 'software rasteriser' : 'hardware adapter'}, not accepted as ${accept}`);
      break;
    }
  }
  if (softwareFallback) return softwareFallback;
  throw new NoAdapterError(attempts);
}

/** The one-line fix for a machine where no adapter was found. */
export function noAdapterHint(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'WebGPU on macOS runs on Metal: update macOS (10.15 or later).';
  if (platform === 'win32') return 'WebGPU on Windows runs on Direct3D 12 or Vulkan: install the GPU vendor driver.';
  return (
    'WebGPU on Linux runs on Vulkan (install the GPU driver and the Vulkan loader, Debian package libvulkan1; ' +
    'NVIDIA ships its Vulkan driver with the proprietary driver) or OpenGL ES (libegl1 libgles2 and a Mesa or vendor EGL driver).'
  );
}
