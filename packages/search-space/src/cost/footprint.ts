import * as tf from '@tensorflow/tfjs';
import { Rng, measureTape } from '@autodeeplab/core';
import type { Scale } from '@autodeeplab/genotype';
import { SearchASPP } from '@autodeeplab/heads';
import { ReLUConvBN, createOp, isPreActivated, isZeroOp } from '@autodeeplab/ops';
import { StemLayer } from '../stem.js';

export const BYTES = 4;
const PROBE = 16;

/** Per unit of a component: bytes its tape keeps for backward, and bytes its forward allocates. */
export interface Footprint {
  kept: number;
  forward: number;
}

export const NONE: Footprint = { kept: 0, forward: 0 };
const probeCache = new Map<string, Footprint>();
const macsCache = new Map<string, number>();

/**
 * The memory footprint per unit of a component, measured once (per backend) on a small input and
 * cached: the ops are registry plugins whose internals this package does not know, so their tape
 * and forward allocations are measured, then scaled by the element count (every tensor of a
 * stride-1 op has the size of its input or output, up to per-channel vectors). `kept` leaves out
 * the component's output (kept and counted by whatever consumes it); `forward` includes it (it
 * stands for the gradient of the input that the component's backward makes).
 */
function probe(key: string, setup: () => { fn: (x: tf.Tensor) => tf.Tensor; input: tf.Tensor; units: number; dispose: () => void }): Footprint {
  const cacheKey = `${tf.getBackend()}:${key}`;
  const cached = probeCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const { fn, input, units, dispose } = setup();
  try {
    let outputBytes = 0;
    const tape = measureTape(
      (x) => {
        const y = fn(x);
        outputBytes = y.size * BYTES;
        return y;
      },
      [input],
    );
    const footprint = { kept: (tape.keptBytes - outputBytes) / units, forward: tape.forwardBytes / units };
    probeCache.set(cacheKey, footprint);
    return footprint;
  } finally {
    input.dispose();
    dispose();
  }
}

const randomInput = (shape: [number, number, number, number], relu: boolean): tf.Tensor4D =>
  tf.tidy(() => {
    const x = tf.tensor4d(new Rng(1).normals(shape.reduce((a, b) => a * b, 1)), shape);
    return relu ? tf.relu(x) : x;
  });

/** Footprint per output element of op `name` applied (pre-activated when it can be) at `channels`. */
export function opFootprint(name: string, channels: number, affine: boolean): Footprint {
  if (isZeroOp(name)) return NONE;
  return probe(`op:${name}:${channels}:${affine}`, () => {
    const op = createOp(name, { name: `__cost_probe__/${name}`, channels, stride: 1, affine, rng: new Rng(0) });
    const pre = isPreActivated(op);
    return {
      fn: (x) => (pre ? op.applyPreActivated!(x as tf.Tensor4D) : op.apply(x as tf.Tensor4D)),
      input: randomInput([1, PROBE, PROBE, channels], pre),
      units: PROBE * PROBE * channels,
      dispose: () => op.dispose(),
    };
  });
}

/** Footprint per output element of a trellis transition (pre-activated input; `up` includes the resize). */
export function transitionFootprint(kind: 'down' | 'same' | 'up', inChannels: number, outChannels: number, affine: boolean): Footprint {
  return probe(`transition:${kind}:${inChannels}:${outChannels}:${affine}`, () => {
    const down = kind === 'down';
    const t = new ReLUConvBN('__cost_probe__/transition', { inChannels, outChannels, kernelSize: down ? 3 : 1, stride: down ? 2 : 1, affine, rng: new Rng(0) });
    const inSize = kind === 'up' ? PROBE / 2 : down ? 2 * PROBE : PROBE;
    return {
      fn: (x) => (kind === 'up' ? t.apply(tf.image.resizeBilinear(x as tf.Tensor4D, [PROBE, PROBE], false, true)) : t.applyPreActivated(x as tf.Tensor4D)),
      input: randomInput([1, inSize, inSize, inChannels], kind !== 'up'),
      units: PROBE * PROBE * outChannels,
      dispose: () => t.dispose(),
    };
  });
}

/** Footprint per output element of a stem layer. */
export function stemFootprint(inChannels: number, outChannels: number): Footprint {
  return probe(`stem:${inChannels}:${outChannels}`, () => {
    const layer = new StemLayer('__cost_probe__/stem', { inChannels, outChannels, rng: new Rng(0) });
    return {
      fn: (x) => layer.apply(x as tf.Tensor4D),
      input: randomInput([1, 2 * PROBE, 2 * PROBE, inChannels], false),
      units: PROBE * PROBE * outChannels,
      dispose: () => layer.dispose(),
    };
  });
}

/** Footprint per input position of a search head (its logits included). */
export function headFootprint(scale: Scale, inChannels: number, numClasses: number): Footprint {
  return probe(`head:${scale}:${inChannels}:${numClasses}`, () => {
    const head = new SearchASPP('__cost_probe__/head', { inChannels, scale, numClasses, rng: new Rng(0) });
    return {
      fn: (x) => head.apply(x as tf.Tensor4D),
      input: randomInput([1, PROBE, PROBE, inChannels], false),
      units: PROBE * PROBE,
      dispose: () => head.dispose(),
    };
  });
}

/** Conv multiply-adds per output pixel of a stride-1 op: every conv kernel entry is used once per pixel. */
export function opMultiAddsPerPixel(name: string, channels: number, affine: boolean): number {
  if (isZeroOp(name)) return 0;
  const key = `${name}:${channels}:${affine}`;
  const cached = macsCache.get(key);
  if (cached !== undefined) return cached;
  const op = createOp(name, { name: `__cost_probe__/${name}`, channels, stride: 1, affine, rng: new Rng(0) });
  try {
    let macs = 0;
    for (const v of op.parameters()) if (v.rank === 4) macs += v.size;
    macsCache.set(key, macs);
    return macs;
  } finally {
    op.dispose();
  }
}

/** Whether op `name` takes a shared ReLU (probed once on a 1-channel instance). */
export function opKeptPreActivated(name: string): boolean {
  const key = `pre:${name}`;
  const cached = macsCache.get(key);
  if (cached !== undefined) return cached === 1;
  const op = createOp(name, { name: `__cost_probe__/${name}`, channels: 1, stride: 1, affine: false, rng: new Rng(0) });
  const pre = isPreActivated(op);
  op.dispose();
  macsCache.set(key, pre ? 1 : 0);
  return pre;
}

/** The footprints a cost walk reads: measured (a backend is needed), or none (counts only). */
export interface Footprints {
  op(name: string, channels: number, affine: boolean): Footprint;
  transition(kind: 'down' | 'same' | 'up', inChannels: number, outChannels: number, affine: boolean): Footprint;
  stem(inChannels: number, outChannels: number): Footprint;
  head(scale: Scale, inChannels: number, numClasses: number): Footprint;
}

export const MEASURED_FOOTPRINTS: Footprints = {
  op: opFootprint,
  transition: transitionFootprint,
  stem: stemFootprint,
  head: headFootprint,
};

export const NO_FOOTPRINTS: Footprints = { op: () => NONE, transition: () => NONE, stem: () => NONE, head: () => NONE };
