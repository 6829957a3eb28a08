import { UserInputError, parseWithSchema, writeFileAtomic } from '@autodeeplab/core';
import { ScaleSchema, type Genotype, type Scale } from '@autodeeplab/genotype';
import { join } from 'node:path';
import { z } from 'zod';
import type { DecodableConfig } from '../decode.js';
import type { MatrixLike, VectorLike } from '../numeric.js';
import { plotAlphaHeatmap } from './alpha.js';
import { plotCell } from './cell.js';
import { svgToPng } from './render.js';
import { plotTrellis } from './trellis.js';

export interface WritePlotsInput {
  genotype: Genotype;
  /** α logits; the heat map is drawn only when given (with config.ops and config.blocks). */
  alpha?: MatrixLike;
  /** β logits; without it the trellis shows the path alone. */
  beta?: VectorLike;
  /** The search config (layers, blocks, scales, ops); default: the genotype's `search.config`, then the genotype itself. */
  config?: Partial<DecodableConfig>;
}

export interface WrittenPlots {
  trellis: { svg: string; png: string };
  cell: { svg: string; png: string };
  alpha?: { svg: string; png: string };
}

/** The config fields the plots use, checked because a genotype file's `search.config` is free-form. */
const PlotConfigSchema = z.object({
  layers: z.number().int().positive().optional(),
  blocks: z.number().int().positive().optional(),
  scales: z.array(ScaleSchema).optional(),
  ops: z.array(z.string()).optional(),
});

async function writePair(dir: string, name: string, svg: string): Promise<{ svg: string; png: string }> {
  const paths = { svg: join(dir, `${name}.svg`), png: join(dir, `${name}.png`) };
  await writeFileAtomic(paths.svg, svg);
  await writeFileAtomic(paths.png, svgToPng(svg));
  return paths;
}

/**
 * Writes trellis.svg/png, cell.svg/png and (when α is given) alpha.svg/png into `dir`, each
 * atomically, and returns their paths.
 */
export async function writePlots(dir: string, input: WritePlotsInput): Promise<WrittenPlots> {
  const { genotype } = input;
  const config = parseWithSchema(
    PlotConfigSchema,
    { ...(genotype.search?.config ?? {}), ...(input.config ?? {}) },
    "plot config (the genotype's search.config and the config given)",
  );
  const layers = genotype.path.length;
  if (config.layers !== undefined && config.layers !== layers) {
    throw new UserInputError(`writePlots: config.layers is ${config.layers} but the genotype's path has ${layers} layers`);
  }
  const scales: Scale[] = config.scales ?? [4, 8, 16, 32];
  const ops = config.ops;
  if (input.alpha !== undefined && !ops) {
    throw new UserInputError("writePlots: config.ops (α's column names) is needed to draw the α heat map");
  }
  const trellis = await writePair(dir, 'trellis', await plotTrellis(input.beta ?? null, genotype.path, { layers, scales }));
  const cell = await writePair(dir, 'cell', await plotCell(genotype.cell));
  const written: WrittenPlots = { trellis, cell };
  if (input.alpha !== undefined && ops) {
    const blocks = config.blocks ?? genotype.cell.length;
    written.alpha = await writePair(dir, 'alpha', await plotAlphaHeatmap(input.alpha, { ops, blocks }));
  }
  return written;
}
