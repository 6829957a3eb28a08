import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFile, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { FileFormatError } from './errors.js';
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_MANIFEST,
  CHECKPOINT_VERSION,
  decodeCheckpointWeights,
  parseCheckpointManifest,
  weightsFileName,
  type Checkpoint,
  type CheckpointManifest,
  type WeightSpec,
} from './checkpoint-format.js';

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
  const specs: WeightSpec[] = [];
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
  await writeFileAtomic(join(dir, CHECKPOINT_MANIFEST), JSON.stringify(manifest));
  await removeStaleWeights(dir, weightsFile);
}

async function removeStaleWeights(dir: string, keep: string): Promise<void> {
  for (const file of await readdir(dir)) {
    if (/^weights-[0-9a-f]+\.bin$/.test(file) && file !== keep) await unlink(join(dir, file)).catch(() => {});
  }
}

/** Reads and validates `model.json` of a checkpoint without loading the weights. */
export async function readCheckpointManifest(dir: string): Promise<CheckpointManifest> {
  const path = join(dir, CHECKPOINT_MANIFEST);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new FileFormatError(path, 'no checkpoint here (cannot read model.json)', { cause: error });
  }
  return parseCheckpointManifest(text, path);
}

/**
 * The weights file a manifest names, checked before anything is read: a plain file name inside the
 * checkpoint directory (a manifest must not make us read `../../etc/…`), a regular file (not a device
 * such as /dev/zero behind a link), of the size the manifest records.
 */
async function checkedWeightsPath(dir: string, manifest: CheckpointManifest): Promise<string> {
  const bytes = manifest.weightsBytes;
  const path = join(dir, weightsFileName(manifest, join(dir, CHECKPOINT_MANIFEST)));
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
  const weightsPath = await checkedWeightsPath(dir, manifest);
  const weights = await readFile(weightsPath);
  if (createHash('sha256').update(weights).digest('hex') !== manifest.weightsSha256) {
    throw new FileFormatError(weightsPath, 'checksum mismatch (the file is corrupt)');
  }
  return decodeCheckpointWeights<M>(manifest, weights, join(dir, CHECKPOINT_MANIFEST));
}

/** True when `dir` holds a checkpoint manifest. */
export async function isCheckpoint(dir: string): Promise<boolean> {
  return stat(join(dir, CHECKPOINT_MANIFEST)).then(
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
  if (!tensor) throw new FileFormatError(join(dir, CHECKPOINT_MANIFEST), `missing tensor '${name}'`);
  if (shape && !tf.util.arraysEqual([...tensor.shape], [...shape])) {
    throw new FileFormatError(join(dir, CHECKPOINT_MANIFEST), `tensor '${name}' has shape [${tensor.shape}], expected [${shape}]`);
  }
  return tensor;
}
