import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs';

/**
 * ResizeBilinear's gradient. In tfjs 4.22 the ResizeBilinearGrad kernels are wrong: cpu's swaps height
 * and width for non-square inputs, and wasm's does not match its own forward with half-pixel centres.
 * So we compute it ourselves on every backend. Bilinear resizing is separable and linear: y = A_h · x · A_wᵀ per image and channel, hence
 * dx = A_hᵀ · dy · A_w. The interpolation matrices are obtained by resizing one-hot columns with the
 * backend's own forward kernel, so the gradient is exactly the transpose of the forward that ran.
 */
export const RESIZE_BILINEAR_GRADIENT: GradConfig = {
  kernelName: 'ResizeBilinear',
  inputsToSave: ['images'],
  gradFunc: (dy, saved, attrs: NamedAttrMap) => {
    const [images] = saved as [tf.Tensor4D];
    const { alignCorners, halfPixelCenters } = attrs as unknown as { alignCorners: boolean; halfPixelCenters: boolean };
    const gradient = dy as tf.Tensor4D;
    return {
      images: () => separableResizeGradient(gradient, images.shape, alignCorners, halfPixelCenters),
    };
  },
};

/** A [outSize, inSize] matrix whose column c is the 1-D resize of the one-hot vector e_c. */
function interpolationMatrix(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const oneHot = tf.reshape(tf.eye(inSize), [1, inSize, 1, inSize]) as tf.Tensor4D;
    const resized = tf.image.resizeBilinear(oneHot, [outSize, 1], alignCorners, halfPixelCenters);
    return tf.reshape(resized, [outSize, inSize]) as tf.Tensor2D;
  });
}

function separableResizeGradient(dy: tf.Tensor4D, inputShape: readonly number[], alignCorners: boolean, halfPixelCenters: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, inH, inW, c] = inputShape as [number, number, number, number];
    const [, outH, outW] = dy.shape;
    const rows = interpolationMatrix(inH, outH, alignCorners, halfPixelCenters); // [outH, inH]
    const cols = interpolationMatrix(inW, outW, alignCorners, halfPixelCenters); // [outW, inW]
    // [n, outH, outW, c] → [n·c·outH, outW] · A_w → [n, c, outH, inW]
    const t = tf.reshape(tf.transpose(dy, [0, 3, 1, 2]), [n * c * outH, outW]);
    const alongWidth = tf.reshape(tf.matMul(t, cols), [n * c, outH, inW]);
    // [n·c, inW, outH] · A_h → [n, c, inW, inH] → [n, inH, inW, c]
    const u = tf.reshape(tf.transpose(alongWidth, [0, 2, 1]), [n * c * inW, outH]);
    const alongHeight = tf.reshape(tf.matMul(u, rows), [n, c, inW, inH]);
    return tf.transpose(alongHeight, [0, 3, 2, 1]) as tf.Tensor4D;
  });
}
