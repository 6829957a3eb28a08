import { stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserInputError, writeFileAtomic } from '@autodeeplab/core';
import { createProgress, setupBackend, type CommandContext } from '../context.js';
import { printJson, printLine } from '../io.js';
import { resolveNetworkDir } from '../network-dir.js';
import { addCommonOptions, examples, parseNumber, type CommonOptions } from '../options.js';

interface PredictFlags extends CommonOptions {
  out: string;
  opacity: number;
}

export interface PredictionFiles {
  input: string;
  mask: string;
  overlay: string;
  height: number;
  width: number;
  /** Pixels per predicted class name (classes that occur). */
  classes: Record<string, number>;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.bmp']);

/** Image files from a list of files and folders (folders: their images, sorted, not recursive). */
export async function listImages(inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (!info) throw new UserInputError(`${input}: no such file or folder`);
    if (info.isDirectory()) {
      // By bytes: a name that is not UTF-8 is refused with its bytes shown, not mangled.
      const { sortedEntries } = await import('@autodeeplab/datasets');
      const found = sortedEntries(input).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()));
      if (found.length === 0) throw new UserInputError(`${input}: no images in this folder (looked for ${[...IMAGE_EXTENSIONS].join(', ')})`);
      files.push(...found.map((f) => join(input, f)));
    } else files.push(input);
  }
  return files;
}

export function registerPredict(program: Command, ctx: CommandContext): void {
  const command = program
    .command('predict')
    .argument('<run-dir|network-dir>', 'a training run directory, or a saved network directory')
    .argument('<images...>', 'image files and/or folders of images')
    .description('segment images: colour-coded masks and overlays as PNG')
    .option('-o, --out <dir>', 'output folder', 'predictions')
    .option('--opacity <x>', 'mask opacity in the overlay, 0..1', parseNumber('--opacity'), 0.5)
    .addHelpText(
      'after',
      examples([
        'autodeeplab predict runs/adl-s street.jpg --out predictions',
        'autodeeplab predict runs/adl-s/network photos/ --out masks --opacity 0.6 --json',
      ]),
    );
  addCommonOptions(command).action(async (network: string, images: string[], options: PredictFlags) => {
    if (!(options.opacity >= 0 && options.opacity <= 1)) throw new UserInputError(`--opacity must be within 0..1, found ${options.opacity}`);
    const files = await runPredict(ctx, network, images, options);
    if (options.json) printJson(ctx.io, { out: resolve(options.out), predictions: files });
    else {
      for (const f of files) printLine(ctx.io, `${f.input} → ${f.mask}, ${f.overlay}`);
      printLine(ctx.io, `${files.length} prediction${files.length === 1 ? '' : 's'} in ${resolve(options.out)}`);
    }
  });
}

export async function runPredict(ctx: CommandContext, networkPath: string, inputs: string[], options: PredictFlags): Promise<PredictionFiles[]> {
  const { networkDir } = resolveNetworkDir(networkPath);
  const files = await listImages(inputs);
  await setupBackend(ctx, options);
  const { classPixelCounts, loadNetwork, overlayMask, segmentPixels } = await import('@autodeeplab/model');
  const { assertImageFits } = await import('../run-limits.js');
  const { decodeImage, encodeIndexedPng, encodeRgbPng, inspectImage, paletteForClasses } = await import('@autodeeplab/datasets');
  const loaded = await loadNetwork(networkDir);
  const { network, preprocessing } = loaded;
  network.eval();
  const numClasses = loaded.config.numClasses;
  const names = loaded.classNames ?? Array.from({ length: numClasses }, (_, i) => `class ${i}`);
  const palette = paletteForClasses(names);
  const out = resolve(options.out);
  const progress = createProgress(ctx);
  progress.start('predict', files.length, { unit: 'image' });
  const results: PredictionFiles[] = [];
  const used = new Set<string>();
  try {
    for (const [i, file] of files.entries()) {
      const header = await inspectImage(file);
      assertImageFits({ genotype: loaded.genotype, config: loaded.config, parameters: network.parameterCount() }, { ...header, source: file });
      const image = await decodeImage(file);
      const { height, width } = image;
      const pixels = { data: image.data, height, width, channels: 3 } as const;
      const classIds = await segmentPixels(network, preprocessing, pixels);
      const overlay = overlayMask(pixels, classIds, palette, options.opacity);
      const counts: Record<string, number> = {};
      classPixelCounts(classIds, numClasses).forEach((count, c) => {
        if (count > 0) counts[names[c]!] = count;
      });
      let stem = basename(file, extname(file));
      if (used.has(stem)) stem = `${stem}-${i}`;
      used.add(stem);
      const maskPath = join(out, `${stem}_mask.png`);
      const overlayPath = join(out, `${stem}_overlay.png`);
      await writeFileAtomic(maskPath, await encodeIndexedPng(classIds, width, height, palette));
      await writeFileAtomic(overlayPath, encodeRgbPng(new Uint8Array(overlay.buffer), width, height));
      results.push({ input: file, mask: maskPath, overlay: overlayPath, height, width, classes: counts });
      progress.update(i + 1);
    }
  } finally {
    progress.finish();
    network.dispose();
  }
  return results;
}
