/**
 * A procedural dataset: shapes (one class per shape type) on textured, noisy backgrounds, with masks
 * that are exactly the drawn pixels. Seeded per sample, so any sample can be regenerated alone; any
 * size and class count. Learnable on purpose: each class has its own shape, hue and texture.
 */
import { z } from 'zod';
import { Rng } from '@autodeeplab/core';
import { mixSeed } from './seed.js';
import { IGNORE_LABEL } from './types.js';
import type { Color, Dataset, GetOptions, LabelStats, Sample } from './types.js';

export const SyntheticSpecSchema = z
  .object({
    kind: z.literal('synthetic'),
    /** Number of samples. */
    size: z.number().int().min(1).default(64),
    height: z.number().int().min(8).default(64),
    width: z.number().int().min(8).default(64),
    /** Class 0 is the background; classes 1.. are shapes. */
    numClasses: z.number().int().min(2).max(255).default(4),
    seed: z.number().int().default(0),
    /** Shapes per image, [min, max] inclusive. */
    shapesPerImage: z.tuple([z.number().int().min(0), z.number().int().min(0)]).default([1, 4]),
    /** Uniform pixel noise amplitude (0..255 scale). */
    noise: z.number().min(0).max(128).default(12),
  })
  .refine((s) => s.shapesPerImage[0] <= s.shapesPerImage[1], { path: ['shapesPerImage'], message: 'min must be ≤ max' });
export type SyntheticSpec = z.input<typeof SyntheticSpecSchema>;

export const SHAPE_KINDS = ['circle', 'rectangle', 'triangle', 'diamond', 'ring', 'cross', 'star', 'hexagon'] as const;
export type ShapeKind = (typeof SHAPE_KINDS)[number];

export type ShapeGeometry =
  | { type: 'circle'; cx: number; cy: number; r: number }
  | { type: 'ring'; cx: number; cy: number; r: number; inner: number }
  | { type: 'rect'; x0: number; y0: number; x1: number; y1: number }
  | { type: 'cross'; cx: number; cy: number; r: number; t: number }
  | { type: 'polygon'; points: [number, number][] };

export interface SyntheticShape {
  classId: number;
  kind: ShapeKind;
  /** The mean fill colour (texture and noise vary around it). */
  color: Color;
  geometry: ShapeGeometry;
}

/** Whether the point (x, y) — pixel centres are (col + 0.5, row + 0.5) — lies inside the shape. */
export function insideShape(g: ShapeGeometry, x: number, y: number): boolean {
  switch (g.type) {
    case 'circle':
      return (x - g.cx) ** 2 + (y - g.cy) ** 2 <= g.r ** 2;
    case 'ring': {
      const d2 = (x - g.cx) ** 2 + (y - g.cy) ** 2;
      return d2 <= g.r ** 2 && d2 >= g.inner ** 2;
    }
    case 'rect':
      return x >= g.x0 && x < g.x1 && y >= g.y0 && y < g.y1;
    case 'cross': {
      const dx = Math.abs(x - g.cx);
      const dy = Math.abs(y - g.cy);
      return (dx <= g.r && dy <= g.t) || (dx <= g.t && dy <= g.r);
    }
    case 'polygon': {
      // Even-odd crossing test.
      let inside = false;
      const p = g.points;
      for (let i = 0, j = p.length - 1; i < p.length; j = i++) {
        const [xi, yi] = p[i]!;
        const [xj, yj] = p[j]!;
        if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
      }
      return inside;
    }
  }
}

function bbox(g: ShapeGeometry): [number, number, number, number] {
  switch (g.type) {
    case 'circle':
    case 'ring':
    case 'cross':
      return [g.cx - g.r, g.cy - g.r, g.cx + g.r, g.cy + g.r];
    case 'rect':
      return [g.x0, g.y0, g.x1, g.y1];
    case 'polygon': {
      const xs = g.points.map((p) => p[0]);
      const ys = g.points.map((p) => p[1]);
      return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
    }
  }
}

function hsvToRgb(h: number, s: number, v: number): Color {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const [r, g, b] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][((i % 6) + 6) % 6]!;
  return [Math.round(r! * 255), Math.round(g! * 255), Math.round(b! * 255)];
}

/** The class's hue (golden-ratio spaced, saturated) — the colour cue the network can learn. */
function classColor(classId: number): Color {
  return hsvToRgb(((classId - 1) * 0.618034) % 1, 0.75, 0.9);
}

function polygonAround(cx: number, cy: number, radii: number[], rotation: number): [number, number][] {
  return radii.map((r, k) => {
    const a = rotation + (2 * Math.PI * k) / radii.length;
    return [cx + r * Math.cos(a), cy + r * Math.sin(a)];
  });
}

function makeGeometry(kind: ShapeKind, rng: Rng, height: number, width: number): ShapeGeometry {
  const m = Math.min(height, width);
  const r = Math.max(2.5, rng.range(0.1, 0.25) * m);
  const cx = rng.range(0, width);
  const cy = rng.range(0, height);
  const rot = rng.range(0, 2 * Math.PI);
  switch (kind) {
    case 'circle':
      return { type: 'circle', cx, cy, r };
    case 'ring':
      return { type: 'ring', cx, cy, r, inner: r * 0.55 };
    case 'rectangle': {
      const w = rng.range(1.0, 1.8) * r;
      const h = rng.range(0.6, 1.2) * r;
      return { type: 'rect', x0: cx - w, y0: cy - h, x1: cx + w, y1: cy + h };
    }
    case 'cross':
      return { type: 'cross', cx, cy, r, t: Math.max(1, 0.3 * r) };
    case 'triangle':
      return { type: 'polygon', points: polygonAround(cx, cy, [r, r, r], rot) };
    case 'diamond':
      return { type: 'polygon', points: polygonAround(cx, cy, [r, 0.6 * r, r, 0.6 * r], 0) };
    case 'star':
      return { type: 'polygon', points: polygonAround(cx, cy, [r, 0.45 * r, r, 0.45 * r, r, 0.45 * r, r, 0.45 * r, r, 0.45 * r], rot) };
    case 'hexagon':
      return { type: 'polygon', points: polygonAround(cx, cy, [r, r, r, r, r, r], rot) };
  }
}

const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

export class SyntheticDataset implements Dataset {
  readonly kind = 'synthetic';
  readonly name: string;
  readonly classNames: readonly string[];
  readonly palette: readonly Color[];
  readonly ignoreLabel = IGNORE_LABEL;
  readonly numClasses: number;
  readonly size: number;
  readonly ids: readonly string[];
  readonly stats: LabelStats = { samplesWithOutOfRange: 0, outOfRangePixels: 0, outOfRangeValues: {} };
  readonly spec: z.output<typeof SyntheticSpecSchema>;

  constructor(input: SyntheticSpec) {
    this.spec = SyntheticSpecSchema.parse(input);
    const { numClasses, size, height, width } = this.spec;
    this.numClasses = numClasses;
    this.size = size;
    this.name = `synthetic/${numClasses}c/${height}x${width}`;
    const names = ['background'];
    for (let c = 1; c < numClasses; c++) {
      const variant = Math.floor((c - 1) / SHAPE_KINDS.length);
      names.push(variant === 0 ? SHAPE_KINDS[(c - 1) % SHAPE_KINDS.length]! : `${SHAPE_KINDS[(c - 1) % SHAPE_KINDS.length]}-${variant + 1}`);
    }
    this.classNames = names;
    this.palette = [[0, 0, 0], ...Array.from({ length: numClasses - 1 }, (_, i) => classColor(i + 1))];
    this.ids = Array.from({ length: size }, (_, i) => `synthetic-${i}`);
  }

  files(): undefined {
    return undefined;
  }

  /** The shapes of sample i, in drawing order (later ones cover earlier ones). */
  shapes(index: number): SyntheticShape[] {
    return this.generate(index).shapes;
  }

  async imageSize(): Promise<{ height: number; width: number }> {
    return { height: this.spec.height, width: this.spec.width };
  }

  async get(index: number, options: GetOptions = {}): Promise<Sample> {
    const { image, label } = this.generate(index);
    const { height: H, width: W } = this.spec;
    const r = options.region;
    if (!r) return { id: this.ids[index]!, index, image, label, height: H, width: W };
    if (r.top < 0 || r.left < 0 || r.height < 1 || r.width < 1 || r.top + r.height > H || r.left + r.width > W) {
      throw new RangeError(`${this.name}: region ${JSON.stringify(r)} is outside the ${W}×${H} image`);
    }
    const img = new Uint8Array(r.height * r.width * 3);
    const lab = new Uint8Array(r.height * r.width);
    for (let y = 0; y < r.height; y++) {
      const src = (r.top + y) * W + r.left;
      img.set(image.subarray(src * 3, (src + r.width) * 3), y * r.width * 3);
      lab.set(label.subarray(src, src + r.width), y * r.width);
    }
    return { id: this.ids[index]!, index, image: img, label: lab, height: r.height, width: r.width };
  }

  private generate(index: number): { image: Uint8Array; label: Uint8Array; shapes: SyntheticShape[] } {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`${this.name}: sample index ${index} out of range 0..${this.size - 1}`);
    }
    const { height: H, width: W, numClasses, noise } = this.spec;
    const rng = new Rng(mixSeed(this.spec.seed, index));
    const image = new Float32Array(H * W * 3);
    const label = new Uint8Array(H * W);

    // Background: a muted base colour, a linear gradient and low-contrast waves.
    const base = rng.range(70, 170);
    const tint = [rng.range(-20, 20), rng.range(-20, 20), rng.range(-20, 20)];
    const gx = rng.range(-40, 40) / W;
    const gy = rng.range(-40, 40) / H;
    const fx = rng.range(0.05, 0.4);
    const fy = rng.range(0.05, 0.4);
    const amp = rng.range(5, 20);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const v = base + gx * x + gy * y + amp * Math.sin(fx * x + 1.7 * Math.sin(fy * y));
        const o = (y * W + x) * 3;
        image[o] = v + tint[0]!;
        image[o + 1] = v + tint[1]!;
        image[o + 2] = v + tint[2]!;
      }
    }

    const [minShapes, maxShapes] = this.spec.shapesPerImage;
    const count = minShapes + rng.int(maxShapes - minShapes + 1);
    const shapes: SyntheticShape[] = [];
    for (let s = 0; s < count; s++) {
      const classId = 1 + rng.int(numClasses - 1);
      const kind = SHAPE_KINDS[(classId - 1) % SHAPE_KINDS.length]!;
      const variant = Math.floor((classId - 1) / SHAPE_KINDS.length);
      const cc = classColor(classId);
      const jitter = rng.range(-15, 15);
      const color: Color = [clamp255(cc[0] + jitter), clamp255(cc[1] + jitter), clamp255(cc[2] + jitter)];
      const geometry = makeGeometry(kind, rng, H, W);
      shapes.push({ classId, kind, color, geometry });
      const [bx0, by0, bx1, by1] = bbox(geometry);
      const x0 = Math.max(0, Math.floor(bx0) - 1);
      const x1 = Math.min(W - 1, Math.ceil(bx1) + 1);
      const y0 = Math.max(0, Math.floor(by0) - 1);
      const y1 = Math.min(H - 1, Math.ceil(by1) + 1);
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          if (!insideShape(geometry, x + 0.5, y + 0.5)) continue;
          // Texture by variant: flat, stripes, checker, dots (±20 around the shape colour).
          const t =
            variant % 4 === 1
              ? (x + y) % 6 < 3
                ? 20
                : -20
              : variant % 4 === 2
                ? ((x >> 2) + (y >> 2)) & 1
                  ? 20
                  : -20
                : variant % 4 === 3
                  ? x % 4 === 0 && y % 4 === 0
                    ? -40
                    : 0
                  : 0;
          const o = (y * W + x) * 3;
          image[o] = color[0] + t;
          image[o + 1] = color[1] + t;
          image[o + 2] = color[2] + t;
          label[y * W + x] = classId;
        }
      }
    }

    const out = new Uint8Array(H * W * 3);
    for (let i = 0; i < out.length; i++) out[i] = clamp255(image[i]! + (rng.uniform() - 0.5) * 2 * noise);
    return { image: out, label, shapes };
  }
}

export function openSynthetic(spec: SyntheticSpec): SyntheticDataset {
  return new SyntheticDataset(spec);
}
