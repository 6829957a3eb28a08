import * as tf from '@tensorflow/tfjs';
import { nestedGradients } from './engine.js';

/**
 * Recompute in backward: `fn(inputs)` as ONE tape node that keeps only its inputs. The forward
 * runs without recording its intermediates (they are freed at once); the backward runs `fn` again
 * under a tape and back-propagates `dy` through it, giving the gradients of the inputs and of
 * `variables` (every variable `fn` reads, passed so that the outer tape reaches them). Exact: the
 * same computation twice (train-mode BN with batch statistics is a pure function of its input).
 *
 * Memory: a whole supernet forward otherwise keeps every op's saved tensors until the backward pass
 * (and tfjs-backend-wasm's saved tensors are copies), more than wasm's 4 GiB heap holds at the
 * paper's sizes; wrapping each trellis node, the tape holds the node outputs, and one node's tape
 * at a time during the backward. Cost: one more forward of `fn`.
 */
export function recomputeInBackward(
  fn: (inputs: readonly tf.Tensor[]) => tf.Tensor,
  inputs: readonly tf.Tensor[],
  variables: readonly tf.Variable[],
  /** Indices of inputs whose gradient is not wanted: zero, not computed. */
  constantInputs: ReadonlySet<number> = new Set(),
  /** Called just before and just after the recomputation (e.g. a `ConvReplay`'s replay / dispose). */
  recompute?: { before(): void; after(): void },
): tf.Tensor {
  const m = inputs.length;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xs = args.slice(0, m) as tf.Tensor[];
    save(xs);
    return {
      value: fn(xs),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        recompute?.before();
        try {
          const differentiated = saved.filter((_, i) => !constantInputs.has(i));
          const wrt = [...differentiated, ...variables];
          // A gradient computation inside the outer backward pass (see nestedGradients).
          const { value, grads } = nestedGradients(() => fn(saved), wrt, dy);
          value.dispose();
          const byTensor = new Map(wrt.map((t, i) => [t, grads[i] ?? tf.zerosLike(t)] as const));
          return [...saved, ...variables].map((t) => byTensor.get(t) ?? tf.zerosLike(t));
        } finally {
          recompute?.after();
        }
      },
    };
  });
  return op(...inputs, ...variables);
}
