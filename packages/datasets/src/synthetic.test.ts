import { describe, expect, it } from 'vitest';
import { openDataset } from './spec.js';
import { SyntheticDataset, type ShapeGeometry } from './synthetic.js';

/** Inside-tests written independently of the package (winding number for polygons). */
function inside(g: ShapeGeometry, x: number, y: number): boolean {
  if (g.type === 'circle') return Math.hypot(x - g.cx, y - g.cy) <= g.r;
  if (g.type === 'ring') {
    const d = Math.hypot(x - g.cx, y - g.cy);
    return d <= g.r && d >= g.inner;
  }
  if (g.type === 'rect') return g.x0 <= x && x < g.x1 && g.y0 <= y && y < g.y1;
  if (g.type === 'cross') {
    const [dx, dy] = [Math.abs(x - g.cx), Math.abs(y - g.cy)];
    return Math.max(dx, dy) <= g.r && Math.min(dx, dy) <= g.t;
  }
  let winding = 0;
  const p = g.points;
  for (let i = 0; i < p.length; i++) {
    const [x1, y1] = p[i]!;
    const [x2, y2] = p[(i + 1) % p.length]!;
    const cross = (x2 - x1) * (y - y1) - (x - x1) * (y2 - y1);
    if (y1 <= y && y2 > y && cross > 0) winding++;
    else if (y1 > y && y2 <= y && cross < 0) winding--;
  }
  return winding !== 0;
}

describe('synthetic', () => {
  it('same seed → identical samples, each regenerable alone; another seed differs', async () => {
    const spec = { kind: 'synthetic', size: 6, height: 40, width: 48, numClasses: 5, seed: 7 } as const;
    const a = openDataset(spec);
    const b = openDataset(spec);
    const a3 = await a.get(3);
    for (let i = 5; i >= 0; i--) await b.get(i);
    const b3 = await b.get(3);
    expect(Buffer.from(a3.image).equals(Buffer.from(b3.image))).toBe(true);
    expect(Buffer.from(a3.label).equals(Buffer.from(b3.label))).toBe(true);
    const c3 = await openDataset({ ...spec, seed: 8 }).get(3);
    expect(Buffer.from(a3.image).equals(Buffer.from(c3.image))).toBe(false);
    expect([a3.height, a3.width, a3.image.length, a3.label.length]).toEqual([40, 48, 40 * 48 * 3, 40 * 48]);
  });

  it('masks are exactly the drawn shapes (painter order), and shape pixels carry the shape colour', async () => {
    const ds = new SyntheticDataset({ kind: 'synthetic', size: 24, height: 48, width: 56, numClasses: 9, seed: 3, shapesPerImage: [2, 5], noise: 10 });
    const seenKinds = new Set<string>();
    const maskErrors: string[] = [];
    let colorErrors = 0;
    let shapePixels = 0;
    for (let i = 0; i < ds.size; i++) {
      const s = await ds.get(i);
      const shapes = ds.shapes(i);
      for (const sh of shapes) seenKinds.add(sh.kind);
      for (let y = 0; y < s.height; y++) {
        for (let x = 0; x < s.width; x++) {
          let top: (typeof shapes)[number] | undefined;
          for (const sh of shapes) if (inside(sh.geometry, x + 0.5, y + 0.5)) top = sh;
          const p = y * s.width + x;
          if (s.label[p] !== (top?.classId ?? 0)) maskErrors.push(`sample ${i} (${x},${y}): ${s.label[p]} vs ${top?.classId ?? 0}`);
          if (top) {
            // Flat fill (variant 0 for ≤ 9 classes) plus noise of ±10.
            for (let c = 0; c < 3; c++) if (Math.abs(s.image[p * 3 + c]! - top.color[c]!) > 11) colorErrors++;
            shapePixels++;
          }
        }
      }
    }
    expect(maskErrors.slice(0, 5)).toEqual([]);
    expect(colorErrors).toBe(0);
    expect(shapePixels).toBeGreaterThan(1000);
    expect(seenKinds.size).toBe(8);
  });

  it('class names per shape type, background first, any class count', () => {
    const ds = openDataset({ kind: 'synthetic', numClasses: 11 });
    expect(ds.classNames).toEqual(['background', 'circle', 'rectangle', 'triangle', 'diamond', 'ring', 'cross', 'star', 'hexagon', 'circle-2', 'rectangle-2']);
    expect(ds.palette).toHaveLength(11);
    expect(new Set(ds.palette.map((c) => c.join())).size).toBe(11);
    expect(() => openDataset({ kind: 'synthetic', numClasses: 1 })).toThrow(/numClasses/);
  });

  it('classes are separable by colour: each class mean colour is nearest its own palette entry', async () => {
    const ds = new SyntheticDataset({ kind: 'synthetic', size: 16, height: 32, width: 32, numClasses: 6, seed: 1 });
    const sums = Array.from({ length: 6 }, () => [0, 0, 0, 0]);
    for (let i = 0; i < ds.size; i++) {
      const s = await ds.get(i);
      for (let p = 0; p < s.label.length; p++) {
        const acc = sums[s.label[p]!]!;
        for (let c = 0; c < 3; c++) acc[c]! += s.image[p * 3 + c]!;
        acc[3]!++;
      }
    }
    for (let k = 1; k < 6; k++) {
      const [r, g, b, n] = sums[k]!;
      expect(n).toBeGreaterThan(0);
      const mean = [r! / n!, g! / n!, b! / n!];
      const dist = ds.palette.map((col, j) => (j === 0 ? Infinity : Math.hypot(col[0] - mean[0]!, col[1] - mean[1]!, col[2] - mean[2]!)));
      expect(dist.indexOf(Math.min(...dist))).toBe(k);
    }
  });
});
