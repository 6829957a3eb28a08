/**
 * Renders the README images of the decode package: docs/images/{trellis,cell,alpha}.png at the
 * repository root, for the built-in `paper` genotype with seeded random α and β (there is no search
 * result in the repository to draw). Run from packages/decode (so that tsx resolves the workspace packages to their sources):
 * `npx tsx scripts/render-readme-plots.ts`.
 */
import { Rng, writeFileAtomic } from '@autodeeplab/core';
import { builtinGenotype, cellEdges, TrellisTopology } from '@autodeeplab/genotype';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { plotAlphaHeatmap, plotCell, plotTrellis, svgToPng, viterbi } from '../src/index.js';

const OPS = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5'];
const BLOCKS = 5;
const LAYERS = 12;

const root = fileURLToPath(new URL('../../../', import.meta.url));
const out = join(root, 'docs', 'images');
const rng = new Rng(2019);

const genotype = builtinGenotype('paper');
// β drawn around the paper's path, so that the picture looks like a converged search.
const topology = new TrellisTopology(LAYERS);
const full = [4, ...genotype.path];
const beta = topology.edges.map((e) => rng.normal() * 0.6 + (full[e.layer] === e.from && full[e.layer + 1] === e.to ? 2 : 0));
const { path } = viterbi(beta, { layers: LAYERS });
const alpha = cellEdges(BLOCKS).map(() => OPS.map(() => rng.normal()));

const images = {
  trellis: await plotTrellis(beta, path, { layers: LAYERS }),
  cell: await plotCell(genotype.cell, { title: "Cell of the 'paper' genotype (Auto-DeepLab, Cityscapes)" }),
  alpha: await plotAlphaHeatmap(alpha, { ops: OPS, blocks: BLOCKS, title: 'softmax(α) of a random α; decoded branches outlined' }),
};
for (const [name, svg] of Object.entries(images)) {
  const file = join(out, `${name}.png`);
  await writeFileAtomic(file, svgToPng(svg));
  process.stdout.write(`wrote ${file}\n`);
}
