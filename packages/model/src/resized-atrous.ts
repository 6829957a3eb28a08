import * as tf from '@tensorflow/tfjs';
import { DilConv, type Op, type OpSpec } from '@autodeeplab/ops';

/** Built-in atrous ops (`dil_conv_3x3`, `dil_conv_5x5`): their kernel size, or undefined for any other op. */
export function atrousKernelSize(opName: string): number | undefined {
  const match = /^dil_conv_(\d+)x\1$/.exec(opName);
  return match ? Number(match[1]) : undefined;
}

/**
 * Bilinear resize with align_corners (TensorFlow's `resize_bilinear(..., align_corners=True)`, as
 * DeepLab's `utils.resize_bilinear`) to `scale_dimension(n, 0.5)` = ceil(n / 2).
 */
export function halveAlignCorners(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  return tf.image.resizeBilinear(x, [Math.ceil(h / 2), Math.ceil(w / 2)], true, false);
}

/**
 * An atrous op of a cell going down a scale, as the official `NASBaseCell._apply_conv_operation`
 * computes it at stride 2: ReLU, bilinear resize (align_corners) to half, then the k×k conv at
 * rate 1, then BN. Same variables (`conv/kernel`, `bn/…`) and cost as the strided dilated conv.
 * For odd sizes the resize picks the even pixels exactly, so the two agree; for even sizes they differ.
 */
export class ResizedAtrous extends DilConv {
  constructor(name: string, spec: Omit<OpSpec, 'name' | 'stride'> & { kernelSize: number }) {
    super(name, { ...spec, stride: 1, rate: 1 });
  }

  // DilConv.apply is tidy(applyPreActivated(relu(x))), so the resize sits between ReLU and conv there too.
  override applyPreActivated(reluX: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => super.applyPreActivated(halveAlignCorners(reluX)));
  }
}

/** Builds the resized form of a built-in atrous op (the caller checked `atrousKernelSize`). */
export function createResizedAtrous(spec: OpSpec, kernelSize: number): Op {
  return new ResizedAtrous(spec.name, { channels: spec.channels, affine: spec.affine, rng: spec.rng, kernelSize });
}
