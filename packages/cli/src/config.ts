import { z } from 'zod';
import { parseWithSchema } from '@autodeeplab/core';
import { DatasetSpecSchema, TransformSchema } from '@autodeeplab/datasets';
import { SearchConfigSchema, TrainConfigSchema } from '@autodeeplab/optim';
import { SearchSpaceConfigSchema } from '@autodeeplab/search-space';
import { NetworkConfigSchema, PRESETS } from '@autodeeplab/model';

export const RUN_CONFIG_VERSION = 1;

/** How the data is batched and augmented (the datasets package's transforms). */
export const DataSettingsSchema = z
  .object({
    /** Images per step (the paper searches with 2). */
    batchSize: z.number().int().positive().default(2),
    /** Augmentation of training batches: resize, random scale, crop [h, w], flip, normalisation. */
    transforms: TransformSchema.prefault({ flip: true }),
    /** Preprocessing of validation / evaluation batches (no randomness: resize and normalisation). */
    evalTransforms: TransformSchema.prefault({}),
    /** Search: the fraction of the training set that trains the weights (trainA); the rest trains α, β (trainB). */
    splitFraction: z.number().gt(0).lt(1).default(0.5),
    /** Batches decoded ahead of the step that uses them. */
    prefetch: z.number().int().positive().default(2),
  })
  .strict();

const common = {
  version: z.literal(RUN_CONFIG_VERSION).default(RUN_CONFIG_VERSION),
  /** Where checkpoints, metrics.jsonl, genotypes and plots go. */
  runDir: z.string().min(1).optional(),
  /** Seeds initialisation, the search split, data order and augmentation. */
  seed: z.number().int().nonnegative().default(0),
  /** The training data: a dataset spec (kind cityscapes | voc | ade20k | folder | synthetic). */
  dataset: DatasetSpecSchema,
  /** Validation data (mIoU after each epoch); none by default. */
  val: DatasetSpecSchema.optional(),
  data: DataSettingsSchema.prefault({}),
  /** ES modules loaded before the config is checked (custom ops): paths relative to the config file, or package names. */
  plugins: z.array(z.string().min(1)).default([]),
};

/** `autodeeplab search --config <file>`: the search space, the data and the optimisation. */
export const SearchRunConfigSchema = z
  .object({
    ...common,
    /** The supernet (layers, blocks, filterMultiplier, scales, ops, numClasses = the dataset's by default). */
    searchSpace: SearchSpaceConfigSchema.prefault({}),
    /** The bilevel optimisation (epochs, archStartEpoch, learning rates…); defaults are the paper's. */
    search: SearchConfigSchema.prefault({}),
  })
  .strict();
export type SearchRunConfig = z.output<typeof SearchRunConfigSchema>;

/** The network to train: a preset or F, plus any other network option of @autodeeplab/model. */
export const NetworkSettingsSchema = NetworkConfigSchema.partial()
  .extend({ preset: z.enum(Object.keys(PRESETS) as [keyof typeof PRESETS]).optional() })
  .strict()
  .refine((n) => n.preset !== undefined || n.filterMultiplier !== undefined, {
    message: "give network.preset ('S', 'M', 'L') or network.filterMultiplier",
  });

/** `autodeeplab train --config <file>`: a genotype, the network size, the data and the optimisation. */
export const TrainRunConfigSchema = z
  .object({
    ...common,
    /** 'paper' (the architecture found on Cityscapes) or a genotype.json path. */
    genotype: z.string().min(1).default('paper'),
    network: NetworkSettingsSchema.prefault({ preset: 'S' }),
    /** SGD with the poly schedule (epochs or steps, lr, …); defaults follow DeepLabv3+. */
    train: TrainConfigSchema.prefault({}),
  })
  .strict();
export type TrainRunConfig = z.output<typeof TrainRunConfigSchema>;

export function parseSearchRunConfig(data: unknown, source: string): SearchRunConfig {
  return parseWithSchema(SearchRunConfigSchema, data, source);
}

export function parseTrainRunConfig(data: unknown, source: string): TrainRunConfig {
  return parseWithSchema(TrainRunConfigSchema, data, source);
}
