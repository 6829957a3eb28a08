import * as tf from '@tensorflow/tfjs';
import { Module, Rng, UserInputError, parseWithSchema, resizeBilinear } from '@autodeeplab/core';
import { GenotypeSchema, type Genotype } from '@autodeeplab/genotype';
import { ASPP, DeepLabV3PlusDecoder } from '@autodeeplab/heads';
import { assertOpsRegistered } from '@autodeeplab/ops';
import { setBatchNormConstants } from './batch-norm.js';
import { Cell } from './cell.js';
import { resolveNetworkConfig, type BuildNetworkOptions, type NetworkConfig } from './config.js';
import { dropPathKeepProbability } from './drop-path.js';
import { planNetwork, sizeAtScale, type NetworkPlan } from './plan.js';
import { Stem } from './stem.js';

/** Intermediate features of one forward pass (for tests and inspection); the caller disposes them. */
export interface NetworkFeatures {
  /** Stem outputs at s = 2 and s = 4. */
  stem: [tf.Tensor4D, tf.Tensor4D];
  /** Output of every cell, in path order. */
  cells: tf.Tensor4D[];
  /** The decoder's low-level (stride-4) feature. */
  lowLevel: tf.Tensor4D;
  /** The last cell's output at output stride 8, after ReLU: the ASPP input. */
  encoder: tf.Tensor4D;
  aspp: tf.Tensor4D;
  /** Decoder logits at stride 4. */
  decoderLogits: tf.Tensor4D;
  /** Logits at the input size. */
  logits: tf.Tensor4D;
}

/**
 * The discrete Auto-DeepLab network (paper §5.2, Table 2): stem, one cell per layer of the genotype's path,
 * ReLU + ASPP at output stride 8, DeepLabv3+ decoder on the stride-4 feature, logits upsampled to
 * the input size.
 */
export class Network extends Module {
  readonly genotype: Genotype;
  readonly config: NetworkConfig;
  readonly plan: NetworkPlan;
  readonly stem: Stem;
  readonly cells: Cell[];
  readonly aspp: ASPP;
  readonly decoder: DeepLabV3PlusDecoder;
  /** Training progress in [0, 1] that schedules drop-path (0 until `setDropPathProgress` is called). */
  private dropPathProgress = 0;
  /** Source of the drop-path masks. */
  private dropPathRng: Rng;

  constructor(genotype: Genotype, config: NetworkConfig, options: { name?: string; seed?: number } = {}) {
    super(options.name ?? 'network');
    this.genotype = genotype;
    this.config = config;
    this.plan = planNetwork(genotype, config);
    const rng = new Rng(options.seed ?? 0);
    this.dropPathRng = new Rng((options.seed ?? 0) + 1);
    this.stem = this.addChild('stem', (n) => new Stem(n, { inChannels: config.inChannels, filters: config.stemFilters, rng }));
    this.cells = this.plan.cells.map((cellPlan) =>
      this.addChild(`cell${cellPlan.index}`, (n) => new Cell(n, cellPlan, genotype.cell, rng, { atrousDownsampling: config.atrousDownsampling })),
    );
    this.aspp = this.addChild(
      'aspp',
      (n) =>
        new ASPP(n, {
          inChannels: this.plan.encoderChannels,
          filters: config.asppFilters,
          rates: config.asppRates,
          poolingBatchNorm: config.asppPoolingBatchNorm,
          rng,
        }),
    );
    this.decoder = this.addChild(
      'decoder',
      (n) =>
        new DeepLabV3PlusDecoder(n, {
          inChannels: config.asppFilters,
          lowLevelChannels: this.plan.lowLevelChannels,
          numClasses: config.numClasses,
          lowLevelFilters: config.lowLevelFilters,
          filters: config.decoderFilters,
          rng,
        }),
    );
    setBatchNormConstants(this, { epsilon: config.batchNormEpsilon, decay: config.batchNormDecay });
  }

  /**
   * Tells scheduled drop-path how far training is: `progress` = step / total steps (clamped to
   * [0, 1]; the official `min(1, global_step / total_training_steps)`). A training loop calls it
   * before each step; `seed`, when given, restarts the mask stream (e.g. the step number, so that a
   * resumed run draws the same masks). Without `dropPathKeepProb` < 1 it changes nothing.
   */
  setDropPathProgress(progress: number, seed?: number): void {
    if (!Number.isFinite(progress)) throw new UserInputError(`${this.name}: drop-path progress must be a finite number, found ${progress}`);
    this.dropPathProgress = Math.min(1, Math.max(0, progress));
    if (seed !== undefined) this.dropPathRng = new Rng(seed);
  }

  /** Drop-path keep probability of cell `index` now (1 in eval mode or when drop-path is off). */
  dropPathKeepProbability(index: number): number {
    if (!this.training || this.config.dropPathKeepProb >= 1) return 1;
    return dropPathKeepProbability(this.config.dropPathKeepProb, index, this.cells.length, this.dropPathProgress);
  }

  /** Logits [N, H, W, numClasses] at the input's size. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.run(x).logits);
  }

  /** Every intermediate feature of one forward pass; dispose them all (e.g. `tf.dispose(Object.values(...))`). */
  features(x: tf.Tensor4D): NetworkFeatures {
    let result: NetworkFeatures | undefined;
    tf.tidy(() => {
      result = this.run(x);
      const keep = (t: tf.Tensor) => tf.keep(t);
      result.stem.forEach(keep);
      result.cells.forEach(keep);
      [result.lowLevel, result.encoder, result.aspp, result.decoderLogits, result.logits].forEach(keep);
    });
    return result!;
  }

  private run(x: tf.Tensor4D): NetworkFeatures {
    if (x.rank !== 4 || x.shape[3] !== this.config.inChannels) {
      throw new UserInputError(`${this.name}: expected an NHWC batch with ${this.config.inChannels} channels, found shape [${x.shape}]`);
    }
    const [, height, width] = x.shape;
    const stem = this.stem.apply(x);
    const states: tf.Tensor4D[] = [...stem];
    const cells = this.cells.map((cell, index) => {
      const s = cell.plan.scale;
      const keep = this.dropPathKeepProbability(index);
      const drop = keep < 1 ? { keep, rng: this.dropPathRng } : undefined;
      const out = cell.apply(states[states.length - 1]!, states[states.length - 2]!, [sizeAtScale(height, s), sizeAtScale(width, s)], drop);
      states.push(out);
      return out;
    });
    const lowLevel = this.plan.lowLevelCell < 0 ? stem[1] : cells[this.plan.lowLevelCell]!;
    // The encoder ends at output stride 8 whatever scale the path ends at.
    const last = cells[cells.length - 1]!;
    const encoder = tf.relu(resizeBilinear(last, sizeAtScale(height, 8), sizeAtScale(width, 8)));
    const aspp = this.aspp.apply(encoder);
    const decoderLogits = this.decoder.apply(aspp, lowLevel);
    const logits = resizeBilinear(decoderLogits, height, width);
    return { stem, cells, lowLevel, encoder, aspp, decoderLogits, logits };
  }
}

/**
 * Builds the discrete network of a genotype. Every op named by the genotype must be registered
 * (built-ins are registered by importing @autodeeplab/ops; user ops with `registerOp`).
 */
export function buildNetwork(genotype: Genotype, options: BuildNetworkOptions): Network {
  const parsed = parseWithSchema(GenotypeSchema, genotype, 'genotype');
  assertOpsRegistered([...new Set(parsed.cell.flatMap((block) => block.map((b) => b.op)))], 'genotype');
  const config = resolveNetworkConfig(options);
  const built: { name?: string; seed?: number } = {};
  if (options.name !== undefined) built.name = options.name;
  if (options.seed !== undefined) built.seed = options.seed;
  return new Network(parsed, config, built);
}
