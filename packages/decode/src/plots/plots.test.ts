import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, UserInputError } from '@autodeeplab/core';
import { builtinGenotype, cellEdges, TrellisTopology } from '@autodeeplab/genotype';
import { plotAlphaHeatmap, plotCell, plotTrellis, svgToPng, writePlots } from '../index.js';

const OPS = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5'];
const PATH_COLOR = '#d62728';

/** Width and height of an SVG document's root element; fails unless it is one. */
function svgSize(svg: string): { width: number; height: number } {
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  const root = svg.slice(0, svg.indexOf('>'));
  const width = Number(/\swidth="([0-9.]+)"/.exec(root)?.[1]);
  const height = Number(/\sheight="([0-9.]+)"/.exec(root)?.[1]);
  expect(width).toBeGreaterThan(100);
  expect(height).toBeGreaterThan(100);
  return { width, height };
}

/** Width and height from a PNG's IHDR chunk; fails unless the bytes start like a PNG. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  expect(view.getUint32(8)).toBe(13);
  expect(String.fromCharCode(...png.subarray(12, 16))).toBe('IHDR');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'decode-plots-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('plots', () => {
  const paper = builtinGenotype('paper');
  const rng = new Rng(17);
  const beta = new TrellisTopology(12).edges.map(() => rng.normal());
  const alpha = cellEdges(5).map(() => OPS.map(() => rng.normal()));

  it('writes trellis, cell and α heat map as valid SVG and PNG for the paper genotype', async () => {
    // The op names come from the genotype's recorded search config, as for a decoded genotype.
    const genotype = { ...paper, search: { config: { layers: 12, blocks: 5, ops: OPS } } };
    const written = await writePlots(dir, { genotype, alpha, beta });
    expect((await readdir(dir)).sort()).toEqual(['alpha.png', 'alpha.svg', 'cell.png', 'cell.svg', 'trellis.png', 'trellis.svg']);
    for (const pair of [written.trellis, written.cell, written.alpha!]) {
      const svg = svgSize(await readFile(pair.svg, 'utf8'));
      const png = pngSize(await readFile(pair.png));
      // PNGs are rendered at twice the SVG size.
      expect(png.width).toBe(Math.round(svg.width * 2));
      expect(png.height).toBe(Math.round(svg.height * 2));
    }
  });

  it('trellis: one red segment per layer and a red dot per path node; labels for every scale', async () => {
    const svg = await plotTrellis(beta, paper.path, { layers: 12 });
    svgSize(svg);
    const redLines = svg.match(new RegExp(`<line[^>]*stroke="${PATH_COLOR}"`, 'g')) ?? [];
    expect(redLines).toHaveLength(12);
    const redDots = svg.match(new RegExp(`<path[^>]*aria-roledescription="point"[^>]*fill="${PATH_COLOR}"`, 'g')) ?? [];
    expect(redDots).toHaveLength(13);
    for (const s of [4, 8, 16, 32]) expect(svg).toContain(`>s = ${s}<`);
    expect(svg).toContain('>stem<');
    // Without β the path is still drawn.
    const plain = await plotTrellis(null, paper.path, { layers: 12 });
    expect(plain.match(new RegExp(`<line[^>]*stroke="${PATH_COLOR}"`, 'g'))).toHaveLength(12);
    await expect(plotTrellis(null, [4, 8, 32], { layers: 3 })).rejects.toThrow(/path\[2\] = 32 is not reachable from s = 8/);
    await expect(plotTrellis(null, [8, 16, 32], { layers: 3, scales: [4, 8, 16] })).rejects.toThrow(/path\[2\] = 32/);
    await expect(plotTrellis(null, [4, 8], { layers: 3 })).rejects.toThrow(/path has 2 layers, the trellis 3/);
  });

  it('cell: every node and every branch op is labelled', async () => {
    const svg = await plotCell(paper.cell);
    svgSize(svg);
    for (const id of ['prev_prev', 'prev', 'block1', 'block2', 'block3', 'block4', 'block5', 'output']) expect(svg).toContain(`>${id}<`);
    const opLabels = svg.match(/<text[^>]*>(sep|dil)_conv_[35]x[35]<\/text>/g) ?? [];
    // 10 branch labels plus the 4 legend entries.
    expect(opLabels).toHaveLength(14);
  });

  it('α heat map: one labelled row per edge, decoded branches outlined', async () => {
    const svg = await plotAlphaHeatmap(alpha, { ops: OPS, blocks: 5 });
    svgSize(svg);
    expect(svg).toContain('>block5 ← block4<');
    expect(svg).toContain('>dil_conv_5x5<');
    expect(svg.match(new RegExp(`stroke="${PATH_COLOR}"`, 'g'))).toHaveLength(10);
  });

  it('svgToPng honours a requested width', async () => {
    const svg = await plotCell(paper.cell);
    expect(pngSize(svgToPng(svg, { width: 640 })).width).toBe(640);
  });

  it('writePlots without α skips the heat map; with α but no op names it says what is missing', async () => {
    const other = join(dir, 'no-alpha');
    const written = await writePlots(other, { genotype: paper });
    expect(written.alpha).toBeUndefined();
    expect((await readdir(other)).sort()).toEqual(['cell.png', 'cell.svg', 'trellis.png', 'trellis.svg']);
    await expect(writePlots(other, { genotype: paper, alpha })).rejects.toThrow(UserInputError);
    await expect(writePlots(other, { genotype: paper, alpha })).rejects.toThrow(/config\.ops/);
    await expect(writePlots(other, { genotype: paper, config: { layers: 6 } })).rejects.toThrow(/config\.layers is 6/);
  });
});
