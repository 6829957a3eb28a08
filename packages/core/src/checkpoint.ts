import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFile, readdir, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic.js';
import { FileFormatError } from './errors.js';
import { parseWithSchema } from './validate.js';

export const CHECKPOINT_FORMAT = 'autodeeplab-checkpoint';
export const CHECKPOINT_VERSION = 1;
const MANIFEST = 'model.json';

const WeightSpecSchema = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(['float32', 'int32', 'bool']),
});

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

type TensorMap = ReadonlyMap<string, tf.Tensor> | Readonly<Record<string, tf.Tensor>>;

function entries(tensors: TensorMap): [string, tf.Tensor][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, tf.Tensor>);
}

/**
 * Saves named tensors and JSON metadata into `dir` (`model.json` + `weights-<hash>.bin`).
 * The weights file is named by its content and written first; `model.json` is replaced atomically
 * last, so a kill at any moment leaves the previous checkpoint loadable.
 */
export async function saveCheckpoint(dir: string, tensors: TensorMap, metadata: unknown = {}): Promise<void> {
  const specs: z.infer<typeof WeightSpecSchema>[] = [];
  const chunks: Uint8Array[] = [];
  for (const [name, tensor] of entries(tensors)) {
    if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32' && tensor.dtype !== 'bool') {
      throw new Error(`saveCheckpoint: tensor '${name}' has unsupported dtype ${tensor.dtype}`);
    }
    specs.push({ name, shape: [...tensor.shape], dtype: tensor.dtype });
    const values = await tensor.data();
    const bytes = tensor.dtype === 'bool' ? Uint8Array.from(values as Uint8Array) : new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    chunks.push(bytes);
  }
  const weights = Buffer.concat(chunks);
  const sha256 = createHash('sha256').update(weights).digest('hex');
  const weightsFile = `weights-${sha256.slice(0, 16)}.bin`;
  await writeFileAtomic(join(dir, weightsFile), weights);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    weightsManifest: [{ paths: [weightsFile], weights: specs }],
    weightsBytes: weights.byteLength,
    weightsSha256: sha256,
    metadata,
  };
  await writeFileAtomic(join(dir, MANIFEST), JSON.stringify(manifest));
  await removeStaleWeights(dir, weightsFile);
}

async function removeStaleWeights(dir: string, keep: string): Promise<void> {
  for (const file of await readdir(dir)) {
    if (/^weights-[0-9a-f]+\.bin$/.test(file) && file !== keep) await unlink(join(dir, file)).catch(() => {});
  }
}

/** Reads and validates `model.json` of a checkpoint without loading the weights. */
export async function readCheckpointManifest(dir: string): Promise<CheckpointManifest> {
  const path = join(dir, MANIFEST);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new FileFormatError(path, 'no checkpoint here (cannot read model.json)', { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FileFormatError(path, `not valid JSON (${(error as Error).message}); the file may be truncated`);
  }
  return parseWithSchema(ManifestSchema, json, path);
}

/**
 * The weights file a manifest names, checked before anything is read: a plain file name inside the
 * checkpoint directory (a manifest must not make us read `../../etc/…`), a regular file (not a device
 * such as /dev/zero behind a link), of the size the manifest records.
 */
async function checkedWeightsPath(dir: string, name: string, bytes: number): Promise<string> {
  if (name !== basename(name) || name === '.' || name === '..') {
    throw new FileFormatError(join(dir, MANIFEST), `weights path '${name}' is not a file name inside the checkpoint directory`);
  }
  const path = join(dir, name);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw new FileFormatError(path, 'weights file is missing', { cause: error });
  }
  if (!info.isFile()) throw new FileFormatError(path, 'is not a regular file');
  if (info.size !== bytes) throw new FileFormatError(path, `has ${info.size} bytes, expected ${bytes} (truncated or corrupt)`);
  return path;
}

/** Loads a checkpoint, verifying size and checksum of the weights. The caller owns the tensors. */
export async function loadCheckpoint<M = unknown>(dir: string): Promise<Checkpoint<M>> {
  const manifest = await readCheckpointManifest(dir);
  const group = manifest.weightsManifest[0]!;
  const weightsPath = await checkedWeightsPath(dir, group.paths[0]!, manifest.weightsBytes);
  const weights = await readFile(weightsPath);
  if (createHash('sha256').update(weights).digest('hex') !== manifest.weightsSha256) {
    throw new FileFormatError(weightsPath, 'checksum mismatch (the file is corrupt)');
  }
  const expectedBytes = group.weights.reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1) * (spec.dtype === 'bool' ? 1 : 4), 0);
  if (expectedBytes !== weights.byteLength) {
    throw new FileFormatError(join(dir, MANIFEST), `tensor specs describe ${expectedBytes} bytes but the weights file has ${weights.byteLength}`);
  }
  const buffer = new Uint8Array(weights).buffer;
  const named = tf.io.decodeWeights(buffer, group.weights);
  return { tensors: new Map(Object.entries(named)), metadata: manifest.metadata as M };
}

/** True when `dir` holds a checkpoint manifest. */
export async function isCheckpoint(dir: string): Promise<boolean> {
  return stat(join(dir, MANIFEST)).then(
    (s) => s.isFile(),
    () => false,
  );
}

/**
 * Looks up a tensor of a loaded checkpoint, failing with the file and tensor name when it is missing
 * or has another shape.
 */
export function requireTensor(checkpoint: Checkpoint, dir: string, name: string, shape?: readonly number[]): tf.Tensor {
  const tensor = checkpoint.tensors.get(name);
  if (!tensor) throw new FileFormatError(join(dir, MANIFEST), `missing tensor '${name}'`);
  if (shape && !tf.util.arraysEqual([...tensor.shape], [...shape])) {
    throw new FileFormatError(join(dir, MANIFEST), `tensor '${name}' has shape [${tensor.shape}], expected [${shape}]`);
  }
  return tensor;
}

export function disposeCheckpoint(checkpoint: Checkpoint): void {
  for (const tensor of checkpoint.tensors.values()) tensor.dispose();
}
