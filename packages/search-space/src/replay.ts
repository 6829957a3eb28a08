import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap } from '@tensorflow/tfjs';

/**
 * Keeps the outputs of a checkpointed node's expensive convolutions (the stacked atrous convs, which
 * are most of its multiply-adds) from the forward pass and replays them when the checkpoint
 * recomputes the node for its backward pass: the recomputation then runs only the cheap parts. Exact
 * (the same convolution of the same inputs); the price is the memory of those outputs, from the
 * forward pass until the node's backward (see `replayedOutputs` in @autodeeplab/ops).
 *
 * Use: pass `convolve` as the node's `StackInput.convolve`; the forward records, `replay()` switches
 * to replaying (before the recomputation, which must make the same convolutions in the same order),
 * `dispose()` frees what is kept (after it; safe to call twice).
 */
export class ConvReplay {
  private kept: tf.Tensor4D[] = [];
  private next = 0;
  private replaying = false;

  /** `filterGradients`: whether the backward needs the gradients of the convolutions' filters. */
  constructor(private readonly filterGradients: boolean) {}

  readonly convolve = (x: tf.Tensor4D, filter: tf.Tensor4D, dilation: number): tf.Tensor4D => {
    if (!this.replaying) {
      const y = tf.conv2d(x, filter, 1, 'same', 'NHWC', dilation);
      this.kept.push(tf.keep(y));
      return y;
    }
    const stored = this.kept[this.next++];
    if (stored === undefined) throw new Error('ConvReplay: the recomputation made more convolutions than the forward pass');
    return replayedConv(x, filter, dilation, stored, this.filterGradients);
  };

  replay(): void {
    this.replaying = true;
    this.next = 0;
  }

  dispose(): void {
    tf.dispose(this.kept);
    this.kept = [];
  }
}

interface EngineState {
  state: { gradientDepth: number; activeTape: unknown };
}

/** Whether a gradient tape is recording (inside tf.grad / variableGrads / engine.gradients). */
export function recordingGradients(): boolean {
  return (tf.engine() as unknown as EngineState).state.gradientDepth > 0;
}

/** The gradient tape being recorded (an object of tfjs' engine), or null outside one. */
export function activeTape(): unknown {
  return (tf.engine() as unknown as EngineState).state.activeTape ?? null;
}

/**
 * `stored` (= conv2d(x, filter)) as the output of a tape node whose gradient is the convolution's:
 * of x, and of the filter when wanted (else the filter is not an input, so nothing differentiates it).
 */
function replayedConv(x: tf.Tensor4D, filter: tf.Tensor4D, dilation: number, stored: tf.Tensor4D, filterGradient: boolean): tf.Tensor4D {
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: dilation, dimRoundingMode: undefined } as unknown as NamedAttrMap;
  // The custom op's inputs: x, and the filter when its gradient is wanted (saved either way).
  const inputs = filterGradient ? [x, filter] : [x];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save([args[0] as tf.Tensor, filter]);
    return {
      value: tf.clone(stored),
      gradFunc: (dy: tf.Tensor, [sx, sf]: tf.Tensor[]) => {
        const g = tf.getGradient('Conv2D')!.gradFunc(dy, [sx!, sf!], attrs);
        return filterGradient ? [g.x!(), g.filter!()] : [g.x!()];
      },
    };
  });
  return op(...inputs) as tf.Tensor4D;
}
