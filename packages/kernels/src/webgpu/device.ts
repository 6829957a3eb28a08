import * as tf from '@tensorflow/tfjs';
import { findAdapter, type AdapterDescription, type DawnModule, type FoundAdapter, type WebGpuOptions } from './adapter.js';

/**
 * Registers TensorFlow.js's `webgpu` backend on a Dawn adapter of our choosing. The backend
 * package's own factory asks `navigator.gpu` for a default adapter, which in Node is never the one
 * wanted (Dawn's OpenGL ES path offers only the compatibility feature level, and a software adapter
 * must be opted into), so it is replaced by one that uses the adapter `findAdapter` chose.
 */

interface WebGpuBackendModule {
  WebGPUBackend: new (device: unknown, adapterInfo: unknown) => tf.KernelBackend;
}

/** The parts of a Dawn GPUDevice we watch. */
interface WatchedDevice {
  addEventListener(type: 'uncapturederror', listener: (event: { error: { message: string } }) => void): void;
  lost: Promise<{ reason: string; message: string }>;
}

/**
 * A WebGPU validation error, out-of-memory or lost device. Dawn reports them asynchronously and
 * the work that failed yields garbage, so the next read of values throws this instead.
 */
export class GpuDeviceError extends Error {
  constructor(message: string) {
    super(`the WebGPU device failed: ${message}`);
    this.name = 'GpuDeviceError';
  }
}

/** Limits the supernet needs above WebGPU's defaults (its activations exceed the default 128 MiB buffer). */
const RAISED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** Features tfjs's webgpu backend uses when present (GPU timing for `tf.time`). */
const OPTIONAL_FEATURES = ['timestamp-query'];

async function importOptional(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ specifier);
}

let registered: { adapter: AdapterDescription; key: string } | undefined;

/** The adapter the registered `webgpu` backend runs on, if one was registered. */
export function webGpuAdapter(): AdapterDescription | undefined {
  return registered?.adapter;
}

/**
 * Loads Dawn and tfjs's webgpu backend, finds an adapter and registers the `webgpu` backend on it.
 * Throws `NoAdapterError` (with every attempt) when none is accepted. A second call with the same
 * options reuses the registration; other options replace it.
 */
export async function registerWebGpuBackend(options: WebGpuOptions = {}): Promise<AdapterDescription> {
  const key = JSON.stringify([options.dawnBackend, options.adapter, options.powerPreference]);
  if (registered?.key === key && tf.findBackendFactory('webgpu') != null) return registered.adapter;
  const dawn = (await importOptional('webgpu')) as DawnModule;
  // tfjs's webgpu backend reads WebGPU's global constants (GPUBufferUsage, …) and `navigator.gpu`.
  for (const [name, value] of Object.entries(dawn.globals)) (globalThis as Record<string, unknown>)[name] ??= value;
  const found = await findAdapter(dawn, options);
  installNavigatorGpu(found);
  const { WebGPUBackend } = (await importOptional('@tensorflow/tfjs-backend-webgpu')) as WebGpuBackendModule;
  if (tf.findBackendFactory('webgpu') != null) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', async () => failingOnDeviceErrors(new WebGPUBackend(await watchDevice(await requestDevice(found)), found.adapter.info)), 0);
  registered = { adapter: found.description, key };
  return found.description;
}

function installNavigatorGpu(found: FoundAdapter): void {
  const globals = globalThis as { navigator?: { gpu?: unknown } };
  if (globals.navigator == null) globals.navigator = { gpu: found.gpu };
  else if (globals.navigator.gpu == null) Object.defineProperty(globals.navigator, 'gpu', { value: found.gpu, configurable: true });
}

async function requestDevice({ adapter }: FoundAdapter): Promise<unknown> {
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) if (adapter.limits[name] != null) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  return adapter.requestDevice({ requiredFeatures, requiredLimits });
}

let deviceError: string | undefined;

async function watchDevice(device: unknown): Promise<unknown> {
  deviceError = undefined;
  const watched = device as WatchedDevice;
  watched.addEventListener('uncapturederror', (event) => (deviceError ??= event.error.message.split('\n')[0]));
  void watched.lost.then((info) => {
    if (info.reason !== 'destroyed') deviceError ??= `device lost (${info.reason}): ${info.message}`;
  });
  return device;
}

/** Every asynchronous read (the only kind this backend has in Node) first reports a device error. */
function failingOnDeviceErrors(backend: tf.KernelBackend): tf.KernelBackend {
  const read = backend.read.bind(backend);
  backend.read = async (dataId) => {
    const values = await read(dataId);
    if (deviceError !== undefined) throw new GpuDeviceError(deviceError);
    return values;
  };
  return backend;
}
