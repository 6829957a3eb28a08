import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UserInputError } from '@autodeeplab/core';
import { setupBackend, type CommandContext } from '../context.js';
import { printJson, printLine } from '../io.js';
import { resolveNetworkDir } from '../network-dir.js';
import { addCommonOptions, examples, parseInteger, type CommonOptions } from '../options.js';
import { asOutputError } from './output-path.js';

const FORMATS = ['onnx', 'web'] as const;
type Format = (typeof FORMATS)[number];
const DEFAULT_OUT: Record<Format, string> = { onnx: 'model.onnx', web: 'site' };

interface ExportFlags extends CommonOptions {
  format: string;
  out?: string;
  nhwc: boolean;
  height?: number;
  width?: number;
}

export interface ExportedSite {
  format: 'web';
  /** The site's folder. */
  out: string;
  files: number;
  bytes: number;
  classes: number;
}

export interface ExportedModel {
  format: 'onnx';
  out: string;
  bytes: number;
  layout: 'NCHW' | 'NHWC';
  /** Fixed input size, or 'dynamic'. */
  height: number | 'dynamic';
  width: number | 'dynamic';
  classes: number;
}

export function registerExport(program: Command, ctx: CommandContext): void {
  const command = program
    .command('export')
    .argument('<run-dir|network-dir>', 'a training run directory, or a saved network directory')
    .description('export the trained network for another runtime: ONNX (opset 17) for ONNX Runtime and others, or a web page that segments in the browser')
    .option('--format <format>', `output format: ${FORMATS.join(', ')}`, 'onnx')
    .option('-o, --out <path>', `the file (onnx, default ${DEFAULT_OUT.onnx}) or folder (web, default ${DEFAULT_OUT.web}) to write`)
    .option('--nhwc', 'input and logits as [N, H, W, C] (default [N, C, H, W], ONNX’s convention)', false)
    .option('--height <pixels>', 'a fixed input height (with --width); without both, height and width are dynamic', parseInteger('--height', 1))
    .option('--width <pixels>', 'a fixed input width (with --height)', parseInteger('--width', 1))
    .addHelpText(
      'after',
      examples([
        'autodeeplab export runs/adl-s --format onnx --out adl-s.onnx',
        'autodeeplab export runs/adl-s/network --out adl-s-1025x2049.onnx --height 1025 --width 2049 --nhwc',
        'autodeeplab export runs/adl-s --format web --out site/   # then serve site/ (e.g. python3 -m http.server -d site)',
      ]) +
        '\nThe model takes images scaled to [0, 1], minus mean, divided by std per channel (both in the\n' +
        "model's metadata `preprocessing`, with `class_names`) and returns logits at the input size; the batch\n" +
        'is dynamic. A custom op needs an ONNX mapping: registerOnnxMapping from @autodeeplab/export in its --plugin.\n',
    );
  addCommonOptions(command).action(async (networkPath: string, options: ExportFlags) => {
    if (options.format === 'web') {
      const site = await runWebExport(ctx, networkPath, options);
      if (options.json) printJson(ctx.io, site);
      else {
        printLine(ctx.io, `web page (${site.files} files, ${(site.bytes / 1e6).toFixed(2)} MB, ${site.classes} classes): ${site.out}`);
        printLine(ctx.io, `serve the folder over HTTP (a page from file:// cannot fetch its network), e.g. python3 -m http.server -d ${site.out}`);
      }
      return;
    }
    const written = await runExport(ctx, networkPath, options);
    if (options.json) printJson(ctx.io, written);
    else {
      const size = written.height === 'dynamic' ? 'dynamic size' : `${written.height}×${written.width}`;
      printLine(
        ctx.io,
        `ONNX model (opset 17, ${written.layout}, ${size}, ${written.classes} classes, ${(written.bytes / 1e6).toFixed(2)} MB): ${written.out}`,
      );
    }
  });
}

/** Checks the flags before the network is loaded, so that a typo costs no time. */
async function validateFlags(options: ExportFlags): Promise<void> {
  if (!(FORMATS as readonly string[]).includes(options.format))
    throw new UserInputError(`--format: expected one of ${FORMATS.join(', ')}, found '${options.format}'`);
  if ((options.height === undefined) !== (options.width === undefined)) {
    throw new UserInputError(`--height and --width go together (a fixed input size); found only ${options.height === undefined ? '--width' : '--height'}`);
  }
  if (options.format === 'web') {
    if (options.nhwc || options.height !== undefined)
      throw new UserInputError('--nhwc, --height and --width are for --format onnx (the web page takes any image size)');
    return;
  }
  const out = options.out ?? DEFAULT_OUT.onnx;
  const existing = await stat(out).catch(() => undefined);
  if (existing?.isDirectory()) throw new UserInputError(`--out: ${out} is a directory; expected a file path such as ${resolve(out, 'model.onnx')}`);
}

/** The network to export, once the flags are checked (a typo costs no loading) and the backend is set. */
async function loadNetworkToExport(ctx: CommandContext, networkPath: string, options: ExportFlags) {
  const { networkDir } = resolveNetworkDir(networkPath);
  await validateFlags(options);
  await setupBackend(ctx, options);
  const { loadNetwork } = await import('@autodeeplab/model');
  return { networkDir, loaded: await loadNetwork(networkDir) };
}

/** The web page with the network, in the folder `--out`. The network is loaded first: a bad one fails here, not in a browser. */
export async function runWebExport(ctx: CommandContext, networkPath: string, options: ExportFlags): Promise<ExportedSite> {
  const { networkDir, loaded } = await loadNetworkToExport(ctx, networkPath, options);
  loaded.network.dispose();
  const { writeWebSite } = await import('./export-web.js');
  const out = resolve(options.out ?? DEFAULT_OUT.web);
  const site = await writeWebSite(networkDir, loaded.genotype, out);
  return { format: 'web', out, ...site, classes: loaded.config.numClasses };
}

export async function runExport(ctx: CommandContext, networkPath: string, options: ExportFlags): Promise<ExportedModel> {
  const { loaded } = await loadNetworkToExport(ctx, networkPath, options);
  const { writeOnnx } = await import('@autodeeplab/export');
  const layout = options.nhwc ? 'NHWC' : 'NCHW';
  const out = resolve(options.out ?? DEFAULT_OUT.onnx);
  try {
    await writeOnnx(out, loaded.network, {
      layout,
      ...(options.height !== undefined && options.width !== undefined ? { height: options.height, width: options.width } : {}),
      preprocessing: loaded.preprocessing,
      ...(loaded.classNames ? { classNames: loaded.classNames } : {}),
    }).catch((error: unknown) => {
      // The atomic write fails on its temporary file: name the file asked for, and why.
      throw asOutputError(error, out);
    });
  } finally {
    loaded.network.dispose();
  }
  return {
    format: 'onnx',
    out,
    bytes: (await stat(out)).size,
    layout,
    height: options.height ?? 'dynamic',
    width: options.width ?? 'dynamic',
    classes: loaded.config.numClasses,
  };
}
