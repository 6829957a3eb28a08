import * as tf from '@tensorflow/tfjs';

/**
 * Σ_k w_k · t_k for scalar weights and same-shaped terms, as one tape node. tfjs' own Mul + AddN
 * would keep both every term and every product for the backward pass (AddN saves all its inputs);
 * this keeps only the terms, which the weight gradients need: ∂/∂t_k = w_k·dy, ∂/∂w_k = Σ dy·t_k.
 */
export function weightedSum(weights: readonly tf.Scalar[], terms: readonly tf.Tensor4D[]): tf.Tensor4D {
  if (weights.length !== terms.length || terms.length === 0) {
    throw new Error(`weightedSum: ${weights.length} weights for ${terms.length} terms`);
  }
  const m = terms.length;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[2 * m] as tf.GradSaveFunc;
    const w = args.slice(0, m) as tf.Scalar[];
    const t = args.slice(m, 2 * m) as tf.Tensor4D[];
    save([...w, ...t]);
    const products = t.map((x, k) => tf.mul(w[k]!, x));
    const value = (m === 1 ? products[0]! : tf.addN(products)) as tf.Tensor4D;
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const sw = saved.slice(0, m);
        const st = saved.slice(m);
        const dw = st.map((x) => tf.sum(tf.mul(dy, x)));
        const dt = sw.map((wk) => tf.mul(dy, wk));
        return [...dw, ...dt];
      },
    };
  });
  return op(...weights, ...terms) as tf.Tensor4D;
}
