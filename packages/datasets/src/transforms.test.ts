import { describe, expect, it } from 'vitest';
import { Rng } from '@autodeeplab/core';
import { applyTransform, IMAGENET_MEAN, IMAGENET_STD, planTransform, resample, sourceRegion, TransformSchema } from './transforms.js';

const H = 60;
const W = 80;
const RECT = { x0: 10, x1: 31, y0: 22, y1: 47 }; // source pixels [x0, x1) × [y0, y1)
const FG = [200, 50, 50];
const BG = [20, 90, 160];

function rectSample() {
  const image = new Uint8Array(H * W * 3);
  const label = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const inRect = x >= RECT.x0 && x < RECT.x1 && y >= RECT.y0 && y < RECT.y1;
      image.set(inRect ? FG : BG, (y * W + x) * 3);
      label[y * W + x] = inRect ? 3 : 0;
    }
  }
  return { image, label, height: H, width: W };
}

describe('transforms', () => {
  it('scale + crop + flip keep image and label aligned with the drawn rectangle', () => {
    const sample = rectSample();
    let flips = 0;
    let padded = 0;
    const interior = [0, 0];
    const colourErrors: string[] = [];
    for (let seed = 0; seed < 40; seed++) {
      const out = applyTransform(sample, { scale: [0.6, 1.8], crop: [50, 50], flip: true, normalize: false }, new Rng(seed));
      const p = out.params;
      if (p.flipped) flips++;
      expect([out.height, out.width]).toEqual([50, 50]);
      // Geometry: the rectangle scales to [x0·sw/W, x1·sw/W); a pixel belongs to it when its centre does.
      const [sx, sy] = [p.scaledWidth / W, p.scaledHeight / H];
      const labelErrors: string[] = [];
      for (let y = 0; y < 50; y++) {
        for (let x = 0; x < 50; x++) {
          const xs = p.cropX + (p.flipped ? 49 - x : x) + 0.5;
          const ys = p.cropY + y + 0.5;
          const i = y * 50 + x;
          let expected: number;
          if (xs > p.scaledWidth || ys > p.scaledHeight) {
            expected = 255;
            padded++;
            if (out.image[i * 3] !== 0 || out.image[i * 3 + 1] !== 0 || out.image[i * 3 + 2] !== 0) labelErrors.push(`pad image at ${x},${y}`);
          } else {
            expected = xs >= RECT.x0 * sx && xs < RECT.x1 * sx && ys >= RECT.y0 * sy && ys < RECT.y1 * sy ? 3 : 0;
          }
          if (out.label[i] !== expected) labelErrors.push(`seed ${seed} (${x},${y}): ${out.label[i]} ≠ ${expected}`);
        }
      }
      expect(labelErrors.slice(0, 5)).toEqual([]);
      // Image: away from label edges the colour is exactly the region's colour.
      for (let y = 1; y < 49; y++) {
        for (let x = 1; x < 49; x++) {
          const i = y * 50 + x;
          const l = out.label[i];
          // Bilinear reads a 2×2 source block: require the whole 3×3 output neighbourhood to agree.
          if (l === 255 || [-51, -50, -49, -1, 1, 49, 50, 51].some((d) => out.label[i + d] !== l)) continue;
          const colour = l === 3 ? FG : BG;
          if (l === 3) interior[1] = interior[1]! + 1;
          else interior[0] = interior[0]! + 1;
          for (let c = 0; c < 3; c++) if (Math.abs(out.image[i * 3 + c]! * 255 - colour[c]!) > 1e-3) colourErrors.push(`seed ${seed} (${x},${y})`);
        }
      }
    }
    expect(flips).toBeGreaterThan(5);
    expect(flips).toBeLessThan(35);
    expect(padded).toBeGreaterThan(0);
    expect(Math.min(...interior)).toBeGreaterThan(1000);
    expect(colourErrors.slice(0, 5)).toEqual([]);
  });

  it('without scaling, crop + flip is an exact mirrored copy of the source window', () => {
    const image = new Uint8Array(H * W * 3).map((_, i) => (i * 7) % 251);
    const label = new Uint8Array(H * W).map((_, i) => i % 19);
    for (let seed = 0; seed < 10; seed++) {
      const out = applyTransform({ image, label, height: H, width: W }, { crop: [20, 30], flip: true, normalize: false }, new Rng(seed));
      const { cropX, cropY, flipped } = out.params;
      for (let y = 0; y < 20; y++) {
        for (let x = 0; x < 30; x++) {
          const sx = cropX + (flipped ? 29 - x : x);
          const src = (cropY + y) * W + sx;
          expect(out.label[y * 30 + x]).toBe(label[src]);
          expect(Math.round(out.image[(y * 30 + x) * 3 + 1]! * 255)).toBe(image[src * 3 + 1]);
        }
      }
    }
  });

  it('labels are resampled by nearest neighbour: no new values, block-constant labels halve exactly', () => {
    const values = [0, 4, 7, 18, 255];
    const label = new Uint8Array(H * W).map((_, i) => values[(Math.floor(i / W / 2) * 3 + Math.floor((i % W) / 2)) % 5]!);
    const image = new Uint8Array(H * W * 3);
    for (let seed = 0; seed < 10; seed++) {
      const out = applyTransform({ image, label, height: H, width: W }, { scale: [0.3, 2.5], crop: [33, 33] }, new Rng(seed));
      for (const v of new Set(out.label)) expect(values).toContain(v);
    }
    const half = applyTransform({ image, label, height: H, width: W }, { resize: 0.5 }, new Rng(0));
    expect([half.height, half.width]).toEqual([30, 40]);
    for (let y = 0; y < 30; y++) for (let x = 0; x < 40; x++) expect(half.label[y * 40 + x]).toBe(label[2 * y * W + 2 * x]);
  });

  it('normalises with ImageNet statistics by default; image padding is 0 (the mean), label padding 255', () => {
    const image = new Uint8Array(4 * 4 * 3).map((_, i) => [10, 128, 250][i % 3]!);
    const label = new Uint8Array(16).fill(1);
    const out = applyTransform({ image, label, height: 4, width: 4 }, { crop: [6, 5] }, new Rng(1));
    expect([out.params.cropX, out.params.cropY]).toEqual([0, 0]); // smaller than the crop: no room to move
    for (let y = 0; y < 6; y++) {
      for (let x = 0; x < 5; x++) {
        const i = y * 5 + x;
        const pad = y >= 4 || x >= 4;
        expect(out.label[i]).toBe(pad ? 255 : 1);
        for (let c = 0; c < 3; c++) {
          const want = pad ? 0 : ([10, 128, 250][c]! / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!;
          expect(out.image[i * 3 + c]).toBeCloseTo(want, 5);
        }
      }
    }
  });

  it('resize to [h, w] then random scale; the same rng seed gives the same parameters', () => {
    const s = rectSample();
    const a = applyTransform(s, { resize: [30, 41], scale: [0.5, 2], crop: [16, 16], flip: true }, new Rng(5));
    const b = applyTransform(s, { resize: [30, 41], scale: [0.5, 2], crop: [16, 16], flip: true }, new Rng(5));
    expect(a.params).toEqual(b.params);
    expect(Buffer.from(a.image.buffer).equals(Buffer.from(b.image.buffer))).toBe(true);
    const factor = a.params.scaledHeight / 30;
    expect(factor).toBeGreaterThanOrEqual(0.5 - 1 / 30);
    expect(factor).toBeLessThanOrEqual(2 + 1 / 30);
    // One factor for both axes (each rounded to whole pixels).
    expect(Math.abs(a.params.scaledWidth / 41 - a.params.scaledHeight / 30)).toBeLessThan(0.5 / 30 + 0.5 / 41);
    const exact = applyTransform(s, { resize: [30, 41] }, new Rng(0));
    expect([exact.height, exact.width]).toEqual([30, 41]);
    expect(() => applyTransform(s, { scale: [2, 1] }, new Rng(0))).toThrow(/min must be ≤ max/);
  });

  it('decoding only sourceRegion() gives exactly the same output as the whole image', () => {
    const image = new Uint8Array(H * W * 3).map((_, i) => (i * 31) % 256);
    const label = new Uint8Array(H * W).map((_, i) => (i * 13) % 23);
    const full = { image, label, height: H, width: W };
    const configs = [
      { scale: [0.3, 2.6] as [number, number], crop: [24, 33] as [number, number], flip: true },
      { resize: 0.5, crop: [21, 21] as [number, number], flip: true },
      { resize: [200, 90] as [number, number], crop: [50, 50] as [number, number] },
      { crop: [70, 90] as [number, number] }, // larger than the image: padding
    ];
    for (const [k, cfg] of configs.entries()) {
      const parsed = TransformSchema.parse(cfg);
      for (let seed = 0; seed < 25; seed++) {
        const p = planTransform(H, W, parsed, new Rng(seed * 7 + k));
        const r = sourceRegion(p, H, W);
        expect(r.top >= 0 && r.left >= 0 && r.top + r.height <= H && r.left + r.width <= W).toBe(true);
        const cut = { image: new Uint8Array(r.height * r.width * 3), label: new Uint8Array(r.height * r.width), height: r.height, width: r.width };
        for (let y = 0; y < r.height; y++) {
          const s0 = (r.top + y) * W + r.left;
          cut.image.set(image.subarray(s0 * 3, (s0 + r.width) * 3), y * r.width * 3);
          cut.label.set(label.subarray(s0, s0 + r.width), y * r.width);
        }
        const a = resample(full, p, parsed.normalize);
        const b = resample(cut, p, parsed.normalize, { top: r.top, left: r.left, fullHeight: H, fullWidth: W });
        expect(Buffer.from(b.image.buffer).equals(Buffer.from(a.image.buffer))).toBe(true);
        expect(Buffer.from(b.label).equals(Buffer.from(a.label))).toBe(true);
        if (cfg.resize === 0.5) expect(r.height * r.width).toBeLessThan(H * W);
      }
    }
  });
});
