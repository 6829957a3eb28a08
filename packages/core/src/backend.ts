import * as tf from '@tensorflow/tfjs';
import { UserInputError } from './errors.js';
import {
  ADAPTER_KINDS,
  DAWN_BACKENDS,
  NoAdapterError,
  noAdapterHint,
  registerMissingKernels,
  registerWebGpuBackend,
  type AdapterDescription,
  type AdapterKind,
  type DawnBackend,
  type WebGpuOptions,
} from '@autodeeplab/kernels';

/** The backends a user can ask for. `webgpu` is a GPU through Dawn; `tensorflow` is libtensorflow through tfjs-node(-gpu). */
export type BackendName = 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendCandidateResult {
  /** The candidate: a package (`@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`) or a backend. */
  candidate: string;
  reason: string;
}

export interface BackendInfo {
  /** The backend in use. */
  name: BackendName;
  /** The tfjs backend name (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
  /** What provides it: `@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`, `@tensorflow/tfjs-backend-wasm`, `@tensorflow/tfjs`. */
  provider: string;
  /** True when a GPU does the work: a hardware WebGPU adapter, or tfjs-node-gpu that found CUDA (else it runs on the CPU). */
  gpu: boolean;
  /** The WebGPU adapter, for the `webgpu` backend. */
  adapter?: AdapterDescription;
  /** Each candidate tried before the chosen one, and why it was not used. */
  skipped: BackendCandidateResult[];
}

export interface InitBackendOptions {
  /**
   * Force a backend; default: `AUTODEEPLAB_BACKEND`, else the first that works in the order webgpu
   * (a hardware adapter only: on a CPU, wasm is faster than a software rasteriser), tfjs-node-gpu,
   * tfjs-node, wasm, cpu.
   */
  backend?: BackendName | 'auto';
  /** Dawn backend and adapter choice; default: `AUTODEEPLAB_DAWN_BACKEND`, `AUTODEEPLAB_WEBGPU_ADAPTER`. */
  webgpu?: WebGpuOptions;
  /** Environment to read `AUTODEEPLAB_BACKEND` from (default `process.env`). */
  env?: Record<string, string | undefined>;
}

interface Candidate {
  name: BackendName;
  provider: string;
  tfBackend: string;
  gpu: boolean;
  /** Loads the provider; returns the WebGPU adapter for `webgpu`. */
  load: (context: LoadContext) => Promise<AdapterDescription | void>;
}

interface LoadContext {
  webgpu: WebGpuOptions;
  /** True when the backend was not asked for by name. */
  auto: boolean;
}

/** Dynamic import of an optional package, hidden from bundlers so that a missing package is not a build error. */
async function importOptional(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ specifier);
}

const CANDIDATES: Candidate[] = [
  {
    name: 'webgpu',
    provider: 'webgpu (Dawn) + @tensorflow/tfjs-backend-webgpu',
    tfBackend: 'webgpu',
    gpu: true,
    load: async ({ webgpu, auto }) => registerWebGpuBackend(auto ? { ...webgpu, adapter: 'hardware' } : webgpu),
  },
  {
    name: 'tensorflow',
    provider: '@tensorflow/tfjs-node-gpu',
    tfBackend: 'tensorflow',
    gpu: true,
    load: async () => void (await importOptional('@tensorflow/tfjs-node-gpu')),
  },
  {
    name: 'tensorflow',
    provider: '@tensorflow/tfjs-node',
    tfBackend: 'tensorflow',
    gpu: false,
    load: async () => void (await importOptional('@tensorflow/tfjs-node')),
  },
  {
    name: 'wasm',
    provider: '@tensorflow/tfjs-backend-wasm',
    tfBackend: 'wasm',
    gpu: false,
    load: async () => void (await import('@tensorflow/tfjs-backend-wasm')),
  },
  { name: 'cpu', provider: '@tensorflow/tfjs', tfBackend: 'cpu', gpu: false, load: async () => {} },
];

function describeFailure(error: unknown): string {
  if (error instanceof NoAdapterError) return `${error.message}. ${noAdapterHint()}`;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  // Node says "Cannot find package"; bundlers and test runners say "Could not resolve".
  if (code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package)|Could not resolve/.test(message)) {
    return 'not installed';
  }
  return message.split('\n')[0] ?? message;
}

/**
 * Whether tfjs-node-gpu's libtensorflow actually runs on a GPU: without CUDA 11.2 and cuDNN 8.1 it
 * loads and silently runs on the CPU. Its backend says so in `isUsingGpuDevice`.
 */
export function usesGpuDevice(backend: unknown): boolean {
  return (backend as { isUsingGpuDevice?: unknown } | null)?.isUsingGpuDevice === true;
}

function webGpuOptions(given: WebGpuOptions | undefined, env: Record<string, string | undefined>): WebGpuOptions {
  return {
    ...(env.AUTODEEPLAB_DAWN_BACKEND ? { dawnBackend: parseDawnBackend(env.AUTODEEPLAB_DAWN_BACKEND, 'AUTODEEPLAB_DAWN_BACKEND') } : {}),
    ...(env.AUTODEEPLAB_WEBGPU_ADAPTER ? { adapter: parseAdapterKind(env.AUTODEEPLAB_WEBGPU_ADAPTER, 'AUTODEEPLAB_WEBGPU_ADAPTER') } : {}),
    ...Object.fromEntries(Object.entries(given ?? {}).filter(([, value]) => value !== undefined)),
  };
}

/** `value` if it is one of `choices`, else a user error naming `source`, the choices and the value. */
function parseChoice<T extends string>(value: string, choices: readonly T[], source: string): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UserInputError(`${source}: expected one of ${choices.join(', ')}; found '${value}'`);
}

export function parseDawnBackend(value: string, source: string): DawnBackend {
  return parseChoice(value, DAWN_BACKENDS, source);
}

export function parseAdapterKind(value: string, source: string): AdapterKind {
  return parseChoice(value, ADAPTER_KINDS, source);
}

export function parseBackendName(value: string, source: string): BackendName | 'auto' {
  return parseChoice<BackendName | 'auto'>(value, ['auto', ...BACKEND_NAMES], source);
}

let current: BackendInfo | undefined;

/** The backend chosen by the last `initBackend`, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/**
 * Chooses and initialises the TensorFlow.js backend, and registers the kernels and gradients that
 * TensorFlow.js lacks (so that training works on every backend). Returns the chosen backend and why
 * each earlier candidate was skipped.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const env = options.env ?? process.env;
  const requested = options.backend ?? (env.AUTODEEPLAB_BACKEND ? parseBackendName(env.AUTODEEPLAB_BACKEND, 'AUTODEEPLAB_BACKEND') : 'auto');
  const candidates = requested === 'auto' ? CANDIDATES : CANDIDATES.filter((c) => c.name === requested);
  const context: LoadContext = { webgpu: webGpuOptions(options.webgpu, env), auto: requested === 'auto' };
  // Libraries never print: tfjs's console notices (e.g. "looks like you are running TensorFlow.js in
  // Node.js") are silenced by its PROD flag, which changes nothing else in 4.22.
  if (!env.AUTODEEPLAB_TFJS_WARNINGS) tf.env().set('PROD', true);
  const skipped: BackendCandidateResult[] = [];
  for (const candidate of candidates) {
    let adapter: AdapterDescription | void;
    try {
      adapter = await candidate.load(context);
      if (!(await tf.setBackend(candidate.tfBackend))) throw new Error(`tf.setBackend('${candidate.tfBackend}') failed`);
      await tf.ready();
    } catch (error) {
      skipped.push({ candidate: candidate.provider, reason: describeFailure(error) });
      continue;
    }
    registerMissingKernels();
    const gpu = adapter ? !adapter.software : candidate.gpu && usesGpuDevice(tf.backend());
    current = { name: candidate.name, tfBackend: candidate.tfBackend, provider: candidate.provider, gpu, skipped, ...(adapter ? { adapter } : {}) };
    return current;
  }
  const tried = skipped.map((s) => `${s.candidate}: ${s.reason}`).join('; ');
  throw new UserInputError(
    `backend '${requested}' is not available (${tried}). ` +
      (requested === 'tensorflow' ? 'Install @tensorflow/tfjs-node-gpu (NVIDIA GPU) or @tensorflow/tfjs-node, or use --backend wasm.' : ''),
  );
}
