import * as tf from '@tensorflow/tfjs';
import { Module, resizeBilinear, type Rng } from '@autodeeplab/core';
import { type Block } from '@autodeeplab/genotype';
import { ReLUConvBN, createOp, getOpMeta, type Op, type OpSpec } from '@autodeeplab/ops';
import type { NetworkConfig } from './config.js';
import { dropPath } from './drop-path.js';
import { branchStride, type CellPlan } from './plan.js';
import { atrousKernelSize, createResizedAtrous } from './resized-atrous.js';

/** Options of a cell that are not part of its plan. */
export interface CellOptions {
  atrousDownsampling: NetworkConfig['atrousDownsampling'];
}

/** Drop-path of one forward pass: the cell's keep probability and the mask stream. */
export interface CellDropPath {
  keep: number;
  rng: Rng;
}

/** An op of a cell: built-in atrous ops going down are resized then convolved when asked (official). */
function createCellOp(name: string, spec: OpSpec, options: CellOptions): Op {
  const kernelSize = atrousKernelSize(name);
  if (spec.stride === 2 && kernelSize !== undefined && options.atrousDownsampling === 'resize') return createResizedAtrous(spec, kernelSize);
  return createOp(name, spec);
}

/**
 * A cell of the discrete network (official `NASBaseCell`):
 * - going up, H^{l−1} is first resized bilinearly to the cell's size;
 * - H^{l−2} is resized to H^{l−1}'s size when they differ, and projected by ReLU-1×1-BN to the block
 *   width f when its channel count differs;
 * - H^{l−1} is always projected by ReLU-1×1-BN to f;
 * - block i sums its two ops; going down, the ops that read H^{l−1} or H^{l−2} use stride 2 (the
 *   others read blocks of this cell, already at the new scale); a built-in atrous op at stride 2
 *   resizes its input to half and convolves at rate 1 (`atrousDownsampling: 'resize'`, official);
 * - in training with drop-path, every op output but identities (and zeros) is dropped per image;
 * - the output concatenates the blocks (B·f channels).
 */
export class Cell extends Module {
  readonly preprocess: ReLUConvBN;
  readonly preprocessPrevPrev: ReLUConvBN | undefined;
  readonly ops: [Op, Op][];
  /** Per op: whether drop-path applies (not to identities and zeros, as the official cell). */
  private readonly droppable: [boolean, boolean][];

  constructor(
    name: string,
    readonly plan: CellPlan,
    readonly blocks: readonly Block[],
    rng: Rng,
    options: CellOptions = { atrousDownsampling: 'resize' },
  ) {
    super(name);
    const f = plan.width;
    this.preprocessPrevPrev = plan.projectPrevPrev
      ? this.addChild('preprocess0', (n) => new ReLUConvBN(n, { inChannels: plan.prevPrevChannels, outChannels: f, kernelSize: 1, affine: true, rng }))
      : undefined;
    this.preprocess = this.addChild(
      'preprocess1',
      (n) => new ReLUConvBN(n, { inChannels: plan.prevChannels, outChannels: f, kernelSize: 1, affine: true, rng }),
    );
    this.ops = blocks.map(
      (block, b) =>
        block.map((branch, i) =>
          this.addChild(`block${b + 1}_${i === 0 ? 'left' : 'right'}`, (n) =>
            createCellOp(branch.op, { name: n, channels: f, stride: branchStride(plan, branch.input), affine: true, rng }, options),
          ),
        ) as [Op, Op],
    );
    const droppable = (op: string) => !['identity', 'zero'].includes(getOpMeta(op).kind);
    this.droppable = blocks.map((block) => [droppable(block[0].op), droppable(block[1].op)]);
  }

  /**
   * `size` is the cell's output size [h, w] (needed to resize H^{l−1} when going up); `drop` turns
   * drop-path on for this pass (the network gives it in training only).
   */
  apply(prev: tf.Tensor4D, prevPrev: tf.Tensor4D, size: readonly [number, number], drop?: CellDropPath): tf.Tensor4D {
    return tf.tidy(() => {
      if (this.plan.transition === 'up') prev = resizeBilinear(prev, size[0], size[1]);
      const [, h, w] = prev.shape;
      let pp = resizeBilinear(prevPrev, h, w);
      if (this.preprocessPrevPrev) pp = this.preprocessPrevPrev.apply(pp);
      const states = new Map<string, tf.Tensor4D>([
        ['prev', this.preprocess.apply(prev)],
        ['prev_prev', pp],
      ]);
      const outputs: tf.Tensor4D[] = [];
      this.blocks.forEach((block, b) => {
        const [left, right] = this.ops[b]!;
        const [dropLeft, dropRight] = this.droppable[b]!;
        let x = left.apply(states.get(block[0].input)!);
        let y = right.apply(states.get(block[1].input)!);
        if (drop && dropLeft) x = dropPath(x, drop.keep, drop.rng);
        if (drop && dropRight) y = dropPath(y, drop.keep, drop.rng);
        const out = tf.add(x, y) as tf.Tensor4D;
        states.set(`block${b + 1}`, out);
        outputs.push(out);
      });
      return tf.concat(outputs, 3);
    });
  }
}
