/**
 * Sizes checked before a run builds its network: a size the backend cannot hold is refused in one
 * line that says the limit, instead of growing for minutes and failing with "memory access out of
 * bounds" or "Invalid typed array length". Loaded only when a run starts (it loads the packages).
 */
import { totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { UserInputError } from '@autodeeplab/core';
import { openDataset, transformedSizeRange, type Dataset, type DatasetSpec, type ParsedTransform } from '@autodeeplab/datasets';
import { loadGenotype, type Genotype } from '@autodeeplab/genotype';
import { countParameters, planNetwork, resolveNetworkConfig, sizeAtScale, type NetworkConfig } from '@autodeeplab/model';
import { supernetMemoryFloor } from '@autodeeplab/search-space';
import type { SearchRunConfig, TrainRunConfig } from './config.js';
import { formatBytes, formatCount, printable } from './format.js';

/** A tensor's values are one typed array, and V8's largest holds 2^32 (beyond: "Invalid typed array length"). */
export const MAX_TENSOR_VALUES = 2 ** 32;

/** What a backend can hold in all, in bytes, and the words for it. */
export interface MemoryLimit {
  bytes: number;
  what: string;
}

/** WebAssembly memory is addressed with 32 bits: the wasm backend's heap cannot pass 4 GiB. */
const WASM_HEAP_BYTES = 4 * 2 ** 30;

export function backendMemoryLimit(backend: string, machineBytes = totalmem()): MemoryLimit {
  if (backend === 'wasm') return { bytes: WASM_HEAP_BYTES, what: "the wasm backend's 4 GiB heap (WebAssembly's 32-bit memory)" };
  return { bytes: machineBytes, what: `this machine's ${formatBytes(machineBytes)} of memory (${backend} backend)` };
}

/** The network input a run's training batches have: the smallest and largest [h, w], and where they come from. */
export interface InputSizes {
  min: [number, number];
  max: [number, number];
  /** `--crop 321x321`, or the first image and its size. */
  source: string;
}

/** The training input sizes: the crop, else the first image of the dataset as the transforms resize and scale it. */
export async function trainingInputSizes(dataset: Dataset, transforms: ParsedTransform): Promise<InputSizes | undefined> {
  if (transforms.crop) {
    const [h, w] = transforms.crop;
    return { min: [h, w], max: [h, w], source: `--crop ${h}x${w} (data.transforms.crop)` };
  }
  if (!dataset.imageSize || dataset.size === 0) return undefined;
  const { height, width } = await dataset.imageSize(0);
  const file = dataset.files(0)?.image;
  const range = transformedSizeRange(height, width, transforms);
  return { ...range, source: `${file ? printable(file) : `${dataset.name} sample 0`} (${width}×${height}, no crop)` };
}

/** A network whose coarsest scale is 1/s needs an input of at least s + 1 pixels a side, for 2 positions there. */
export function minimumInputSide(coarsestScale: number): number {
  return coarsestScale + 1;
}

/** Refuses input sizes below the network's minimum or with a tensor past `MAX_TENSOR_VALUES`. */
export function assertInputSizes(
  sizes: InputSizes,
  options: { coarsestScale: number; batch: number; channels: number; fix?: { small: string; large: string } },
): void {
  const side = minimumInputSide(options.coarsestScale);
  const fix = options.fix ?? {
    small: `give --crop ${side}x${side} or larger (smaller images are padded) or set data.transforms.resize`,
    large: 'use a smaller --crop, data.transforms.resize or --batch-size',
  };
  const [minH, minW] = sizes.min;
  if (minH < side || minW < side) {
    throw new UserInputError(
      `${sizes.source}: the network input is ${minH}×${minW}, below its minimum of ${side}×${side} ` +
        `(its coarsest scale, 1/${options.coarsestScale}, needs 2 positions a side); ${fix.small}`,
    );
  }
  const [maxH, maxW] = sizes.max;
  const values = options.batch * maxH * maxW * options.channels;
  if (values > MAX_TENSOR_VALUES) {
    throw new UserInputError(
      `${sizes.source}: a batch of ${options.batch} at ${maxH}×${maxW} makes a tensor of ${formatCount(values)} values ` +
        `(${options.channels} channels), more than the ${formatCount(MAX_TENSOR_VALUES)} a tensor can hold; ${fix.large}`,
    );
  }
}

/** The validation images (evaluated whole unless `data.evalTransforms` crops) against the same minimum and tensor limit. */
async function assertValidationSizes(
  val: DatasetSpec | undefined,
  transforms: ParsedTransform,
  options: { coarsestScale: number; batch: number; channels: number },
) {
  if (!val) return;
  const sizes = await trainingInputSizes(openDataset(val), transforms);
  const fix = { small: 'set data.evalTransforms.resize (or crop)', large: 'set data.evalTransforms.resize or a smaller --batch-size' };
  if (sizes) assertInputSizes({ ...sizes, source: `validation data: ${sizes.source}` }, { ...options, fix });
}

/**
 * Refuses a search the backend cannot hold, before the supernet is built: its input sizes (see
 * `assertInputSizes`), and a floor of its memory (parameters, gradients, cell outputs) against the
 * backend's limit.
 */
export async function assertSearchFits(config: SearchRunConfig, backend = tf.getBackend(), machineBytes?: number): Promise<void> {
  const { searchSpace, data } = config;
  const sizes = await trainingInputSizes(openDataset(config.dataset), data.transforms);
  const scales = searchSpace.scales;
  const coarsestScale = scales[scales.length - 1]!;
  const batch = data.batchSize;
  // The largest per-pixel tensors at full resolution: the input (3 channels) and the heads' logits.
  const limits = { coarsestScale, batch, channels: Math.max(3, searchSpace.numClasses) };
  if (sizes) assertInputSizes(sizes, limits);
  await assertValidationSizes(config.val, data.evalTransforms, limits);
  const [height, width] = sizes?.max ?? [coarsestScale + 1, coarsestScale + 1];
  const floor = supernetMemoryFloor(searchSpace, { height, width, batch });
  const limit = backendMemoryLimit(backend, machineBytes);
  if (floor.bytes > limit.bytes) {
    throw new UserInputError(
      `searchSpace.layers ${searchSpace.layers}, filterMultiplier ${searchSpace.filterMultiplier}, a batch of ${batch} at ${height}×${width}` +
        `${sizes ? ` (${sizes.source})` : ''}: a search step needs at least ${formatBytes(floor.bytes)} ` +
        `(${formatCount(floor.parameters)} parameters and their gradients: ${formatBytes(floor.parameterBytes)}; cell outputs: ${formatBytes(floor.activationBytes)}), ` +
        `more than ${limit.what}; use fewer --layers, a smaller --filter-multiplier, --crop or --batch-size`,
    );
  }
}

/**
 * Refuses a training the backend cannot hold, before the network is built: its input sizes against
 * the genotype's coarsest scale, and a floor of its memory (parameters with their gradients, the
 * cells' outputs) against the backend's limit.
 */
export async function assertTrainFits(config: TrainRunConfig, backend = tf.getBackend(), machineBytes?: number): Promise<void> {
  const genotype = await loadGenotype(config.genotype);
  const dataset = openDataset(config.dataset);
  const { preset, ...rest } = config.network;
  const options = { ...rest, ...(preset ? { preset } : {}), numClasses: dataset.numClasses };
  const network = resolveNetworkConfig(options);
  const coarsestScale = Math.max(...genotype.path);
  const batch = config.data.batchSize;
  const sizes = await trainingInputSizes(dataset, config.data.transforms);
  const limits = { coarsestScale, batch, channels: Math.max(3, network.numClasses) };
  if (sizes) assertInputSizes(sizes, limits);
  await assertValidationSizes(config.val, config.data.evalTransforms, limits);
  const [height, width] = sizes?.max ?? [coarsestScale + 1, coarsestScale + 1];
  const parameters = countParameters(genotype, options);
  const bytes = networkFloorBytes(genotype, network, { parameters, batch, height, width, training: true });
  const limit = backendMemoryLimit(backend, machineBytes);
  if (bytes > limit.bytes) {
    throw new UserInputError(
      `network filterMultiplier ${network.filterMultiplier} (${genotype.path.length} cells), a batch of ${batch} at ${height}×${width}` +
        `${sizes ? ` (${sizes.source})` : ''}: a training step needs at least ${formatBytes(bytes)} (${formatCount(parameters)} parameters), ` +
        `more than ${limit.what}; use a smaller --preset, --crop or --batch-size`,
    );
  }
}

/**
 * A floor of the memory of the network on a batch: the weights, the input and the logits at full
 * resolution; training adds the weights' gradients and every cell's output (the tape keeps them),
 * inference only the two largest consecutive cell outputs (a cell reads the two before it).
 */
export function networkFloorBytes(
  genotype: Genotype,
  network: NetworkConfig,
  at: { parameters: number; batch: number; height: number; width: number; training: boolean },
): number {
  const { batch, height, width } = at;
  const at2 = (scale: number, channels: number) => batch * sizeAtScale(height, scale) * sizeAtScale(width, scale) * channels;
  // The stem's three convs (1/2, 1/2, 1/4: at full width the largest tensors of a forward), then the cells.
  const [s1, s2, s3] = network.stemFilters;
  const outputs = [at2(2, s1!), at2(2, s2!), at2(4, s3!), ...planNetwork(genotype, network).cells.map((cell) => at2(cell.scale, cell.outChannels))];
  const cells = at.training ? outputs.reduce((a, b) => a + b, 0) : Math.max(0, ...outputs.map((v, i) => v + (outputs[i - 1] ?? 0)));
  return 4 * ((at.training ? 2 : 1) * at.parameters + batch * height * width * (3 + network.numClasses) + cells);
}

/**
 * Refuses an image a trained network cannot segment on this backend (`predict`, `eval` without a
 * crop), from its size alone — read it from the file's header, before decoding: below the minimum
 * input of the genotype's coarsest scale, a tensor past `MAX_TENSOR_VALUES`, or a forward whose floor
 * exceeds the backend's memory. `source` names the image in the message.
 */
export function assertImageFits(
  loaded: { genotype: Genotype; config: NetworkConfig; parameters: number },
  image: { height: number; width: number; source: string },
  backend = tf.getBackend(),
  machineBytes?: number,
): void {
  const { genotype, config } = loaded;
  const { height, width, source } = image;
  const sizes: InputSizes = { min: [height, width], max: [height, width], source: `${source} (${width}×${height})` };
  const resize = 'resize the image (or cut it into tiles) first';
  const fix = { small: 'upscale the image or pad it', large: resize };
  assertInputSizes(sizes, { coarsestScale: Math.max(...genotype.path), batch: 1, channels: Math.max(3, config.numClasses), fix });
  const bytes = networkFloorBytes(genotype, config, { parameters: loaded.parameters, batch: 1, height, width, training: false });
  const limit = backendMemoryLimit(backend, machineBytes);
  if (bytes > limit.bytes) {
    throw new UserInputError(`${sizes.source}: segmenting it needs at least ${formatBytes(bytes)}, more than ${limit.what}; ${resize}`);
  }
}

/** The checks of a run's config: a search's (the config has a search space) or a training's (a network). */
export async function assertRunFits(config: unknown): Promise<void> {
  if (typeof config !== 'object' || config === null) return;
  if ('searchSpace' in config) await assertSearchFits(config as SearchRunConfig);
  else if ('network' in config) await assertTrainFits(config as TrainRunConfig);
}
