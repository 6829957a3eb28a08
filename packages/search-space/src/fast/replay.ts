import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap } from '@tensorflow/tfjs';
import { convolution, type ConvolutionSpec } from '@autodeeplab/ops';

/**
 * Bytes of light convolutions' outputs (see `ConvolutionSpec.heavy`) the recomputed nodes of one
 * forward pass may keep for their recomputation (see `ConvReplay`), taken in forward order: a
 * convolution whose output does not fit is recomputed instead.
 */
export class ReplayBudget {
  constructor(private left: number) {}

  /** Reserves `bytes` if they fit in what is left. */
  take(bytes: number): boolean {
    if (bytes > this.left) return false;
    this.left -= bytes;
    return true;
  }
}

/**
 * wasm's heap holds every tensor in at most 4 GiB (32-bit addresses), and the paper's supernet at
 * 321×321 could keep more sep-conv outputs than a step leaves room for; the figures behind this
 * default are in docs/benchmarks.md.
 */
const WASM_REPLAY_BUDGET_BYTES = 1e9;

/** The default `replayBudgetBytes` of a backend: 1 GB on wasm, unlimited elsewhere. */
export function defaultReplayBudgetBytes(backend: string = tf.getBackend()): number {
  return backend === 'wasm' ? WASM_REPLAY_BUDGET_BYTES : Infinity;
}

/**
 * Keeps the outputs of a recomputed node's convolutions (the stacked sep and atrous convs, nearly
 * all of its multiply-adds) from the forward pass, the heavy ones always and the light ones as far
 * as the budget allows, and replays them when `recomputeInBackward` recomputes the node for its
 * backward pass: the recomputation then runs only the cheap parts and the convolutions that did not
 * fit. Exact (the same convolution of the same inputs); the price is the memory of those outputs,
 * from the forward pass until the node's backward (see `StackedForm.replayedOutputs` in
 * @autodeeplab/ops).
 *
 * Use: pass `convolve` as the node's `StackInput.convolve`; the forward records, `replay()` switches
 * to replaying (before the recomputation, which must make the same convolutions in the same order),
 * `dispose()` frees what is kept (after it; safe to call twice).
 */
export class ConvReplay {
  /** Per convolution of the forward pass, in order: its kept output, or undefined (recomputed). */
  private kept: (tf.Tensor4D | undefined)[] = [];
  private next = 0;
  private replaying = false;

  /** `filterGradients`: whether the backward needs the gradients of the convolutions' filters. */
  constructor(
    private readonly filterGradients: boolean,
    private readonly budget: ReplayBudget,
  ) {}

  readonly convolve = (x: tf.Tensor4D, filter: tf.Tensor4D, spec: ConvolutionSpec): tf.Tensor4D => {
    if (!this.replaying) {
      const y = convolution(x, filter, spec);
      this.kept.push(spec.heavy || this.budget.take(y.size * BYTES_PER_FLOAT) ? tf.keep(y) : undefined);
      return y;
    }
    if (this.next >= this.kept.length) throw new Error('ConvReplay: the recomputation made more convolutions than the forward pass');
    const stored = this.kept[this.next++];
    return stored ? replayedConv(x, filter, spec, stored, this.filterGradients) : convolution(x, filter, spec);
  };

  replay(): void {
    this.replaying = true;
    this.next = 0;
  }

  dispose(): void {
    tf.dispose(this.kept.filter((t): t is tf.Tensor4D => t !== undefined));
    this.kept = [];
  }
}

const BYTES_PER_FLOAT = 4;

/**
 * `stored` (= conv2d(x, filter)) as the output of a tape node whose gradient is the convolution's:
 * of x, and of the filter when wanted (else the filter is not an input, so nothing differentiates it).
 */
function replayedConv(x: tf.Tensor4D, filter: tf.Tensor4D, spec: ConvolutionSpec, stored: tf.Tensor4D, filterGradient: boolean): tf.Tensor4D {
  const attrs: NamedAttrMap = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: spec.dilation };
  const kernel = spec.depthwise ? 'DepthwiseConv2dNative' : 'Conv2D';
  // The custom op's inputs: x, and the filter when its gradient is wanted (saved either way).
  const inputs = filterGradient ? [x, filter] : [x];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save([args[0] as tf.Tensor, filter]);
    return {
      value: tf.clone(stored),
      gradFunc: (dy: tf.Tensor, [sx, sf]: tf.Tensor[]) => {
        const g = tf.getGradient(kernel)!.gradFunc(dy, [sx!, sf!], attrs);
        return filterGradient ? [g.x!(), g.filter!()] : [g.x!()];
      },
    };
  });
  return op(...inputs) as tf.Tensor4D;
}
