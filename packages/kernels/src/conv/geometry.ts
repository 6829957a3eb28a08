import { backend_util } from '@tensorflow/tfjs';

/**
 * The sizes of one convolution, as its gradients read them. All tensors are NHWC; filters are
 * [kh, kw, inC, outC] (regular) or [kh, kw, inC, multiplier] (depthwise).
 * Forward: y[n,i,j,o] = Σ x[n, i·sh + p·dh − top, j·sw + q·dw − left, c] · f[p,q,c,o].
 */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  /** Output channels (inC · multiplier for depthwise). */
  outC: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  padTop: number;
  padLeft: number;
  depthwise: boolean;
  /** Depthwise channel multiplier (1 for regular convolutions). */
  multiplier: number;
}

export type ConvPad = 'valid' | 'same' | number | backend_util.ExplicitPadding;

/** The attributes the conv kernels and their gradients read. */
export interface ConvAttrs {
  strides: number | [number, number];
  pad: ConvPad;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The geometry of a convolution of `xShape` with `filterShape`, by tfjs' own rules (computeConv2DInfo). */
export function convGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  strides: number | [number, number],
  dilations: number | [number, number] | undefined,
  pad: ConvPad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
): ConvGeometry {
  const info = backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    depthwise,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    depthwise,
    multiplier: depthwise ? (filterShape[3] as number) : 1,
  };
}
