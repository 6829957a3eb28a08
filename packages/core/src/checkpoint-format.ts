/**
 * The checkpoint format without a file system: validating `model.json`, decoding the weights it
 * describes, and loading both from a URL. Node's directory loader (checkpoint.ts) and a web page share it.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { FileFormatError } from './errors.js';
import { parseWithSchema } from './validate.js';

export const CHECKPOINT_FORMAT = 'autodeeplab-checkpoint';
export const CHECKPOINT_VERSION = 1;
/** The manifest's file name in a checkpoint directory. */
export const CHECKPOINT_MANIFEST = 'model.json';

const WeightSpecSchema = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(['float32', 'int32', 'bool']),
});
export type WeightSpec = z.infer<typeof WeightSpecSchema>;

/**
 * `model.json`: a TensorFlow.js weights manifest (so `tf.io.decodeWeights` reads the weights file)
 * plus our format tag, version, integrity data and free-form JSON metadata.
 */
const ManifestSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  version: z.literal(CHECKPOINT_VERSION),
  weightsManifest: z.array(z.object({ paths: z.array(z.string()).length(1), weights: z.array(WeightSpecSchema) })).length(1),
  weightsBytes: z.number().int().nonnegative(),
  weightsSha256: z.string().regex(/^[0-9a-f]{64}$/),
  metadata: z.unknown(),
});
export type CheckpointManifest = z.infer<typeof ManifestSchema>;

export interface Checkpoint<M = unknown> {
  tensors: Map<string, tf.Tensor>;
  metadata: M;
}

/** Frees a loaded checkpoint's tensors. */
export function disposeCheckpoint(checkpoint: Checkpoint): void {
  for (const tensor of checkpoint.tensors.values()) tensor.dispose();
}

/** Validates the text of a `model.json`; errors name `source`. */
export function parseCheckpointManifest(text: string, source: string): CheckpointManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FileFormatError(source, `not valid JSON (${(error as Error).message}); the file may be truncated`);
  }
  return parseWithSchema(ManifestSchema, json, source);
}

/** The weights file's name, which must be a plain file name: a manifest must not make us read `../../etc/…`. */
export function weightsFileName(manifest: CheckpointManifest, source: string): string {
  const name = manifest.weightsManifest[0]!.paths[0]!;
  if (!/^[^/\\]+$/.test(name) || name === '.' || name === '..') {
    throw new FileFormatError(source, `weights path '${name}' is not a file name inside the checkpoint directory`);
  }
  return name;
}

/** Decodes the weights a manifest describes (already checked for size and checksum). The caller owns the tensors. */
export function decodeCheckpointWeights<M = unknown>(manifest: CheckpointManifest, weights: Uint8Array, source: string): Checkpoint<M> {
  const group = manifest.weightsManifest[0]!;
  const expectedBytes = group.weights.reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1) * (spec.dtype === 'bool' ? 1 : 4), 0);
  if (expectedBytes !== weights.byteLength) {
    throw new FileFormatError(source, `tensor specs describe ${expectedBytes} bytes but the weights file has ${weights.byteLength}`);
  }
  const buffer = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  const named = tf.io.decodeWeights(buffer, group.weights);
  return { tensors: new Map(Object.entries(named)), metadata: manifest.metadata as M };
}

/** SHA-256 of bytes as hex, through Web Crypto (browsers in a secure context, Node 20); null where it is missing. */
async function sha256Hex(bytes: Uint8Array): Promise<string | null> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return null;
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A URL made absolute: a relative one resolves against the page's address (a browser); Node has none, so it must be absolute there. */
export function absoluteUrl(url: string | URL): URL {
  return new URL(url, (globalThis as { location?: { href: string } }).location?.href);
}

async function fetchOk(url: URL, fetchFn: typeof fetch): Promise<Response> {
  let response: Response;
  try {
    response = await fetchFn(url);
  } catch (error) {
    throw new FileFormatError(url.href, `cannot fetch (${(error as Error).message})`, { cause: error });
  }
  if (!response.ok) throw new FileFormatError(url.href, `cannot fetch: HTTP ${response.status} ${response.statusText}`.trim());
  return response;
}

/**
 * Loads a checkpoint from the URL of its `model.json`, the weights file from beside it, checking size
 * and (where Web Crypto is available: a secure context such as https or localhost) the checksum.
 * The caller owns the tensors.
 */
export async function loadCheckpointFromUrl<M = unknown>(manifestUrl: string | URL, options: { fetch?: typeof fetch } = {}): Promise<Checkpoint<M>> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const url = absoluteUrl(manifestUrl);
  const manifest = parseCheckpointManifest(await (await fetchOk(url, fetchFn)).text(), url.href);
  const weightsUrl = new URL(weightsFileName(manifest, url.href), url);
  const weights = new Uint8Array(await (await fetchOk(weightsUrl, fetchFn)).arrayBuffer());
  if (weights.byteLength !== manifest.weightsBytes) {
    throw new FileFormatError(weightsUrl.href, `has ${weights.byteLength} bytes, expected ${manifest.weightsBytes} (truncated or corrupt)`);
  }
  const sha256 = await sha256Hex(weights);
  if (sha256 !== null && sha256 !== manifest.weightsSha256) throw new FileFormatError(weightsUrl.href, 'checksum mismatch (the file is corrupt)');
  return decodeCheckpointWeights<M>(manifest, weights, url.href);
}
