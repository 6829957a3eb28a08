import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UserInputError } from '@autodeeplab/core';
import { setupBackend, type CommandContext } from '../context.js';
import { printJson, printLine } from '../io.js';
import { resolveNetworkDir } from '../network-dir.js';
import { addCommonOptions, examples, parseInteger, type CommonOptions } from '../options.js';

const FORMATS = ['onnx'] as const;

/** File system errors that mean the output path cannot be written (a full disk is the machine's, not these). */
// EEXIST: a file where a folder of the path should be.
const UNWRITABLE = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EEXIST', 'EACCES', 'EPERM', 'EROFS']);

interface ExportFlags extends CommonOptions {
  format: string;
  out: string;
  nhwc: boolean;
  height?: number;
  width?: number;
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
    .description('export the trained network for another runtime: ONNX (opset 17) for ONNX Runtime and others')
    .option('--format <format>', `output format: ${FORMATS.join(', ')}`, 'onnx')
    .option('-o, --out <file>', 'the file to write', 'model.onnx')
    .option('--nhwc', 'input and logits as [N, H, W, C] (default [N, C, H, W], ONNX’s convention)', false)
    .option('--height <pixels>', 'a fixed input height (with --width); without both, height and width are dynamic', parseInteger('--height', 1))
    .option('--width <pixels>', 'a fixed input width (with --height)', parseInteger('--width', 1))
    .addHelpText(
      'after',
      examples([
        'autodeeplab export runs/adl-s --format onnx --out adl-s.onnx',
        'autodeeplab export runs/adl-s/network --out adl-s-1025x2049.onnx --height 1025 --width 2049 --nhwc',
      ]) +
        '\nThe model takes images scaled to [0, 1], minus mean, divided by std per channel (both in the\n' +
        "model's metadata `preprocessing`, with `class_names`) and returns logits at the input size; the batch\n" +
        'is dynamic. A custom op needs an ONNX mapping: registerOnnxMapping from @autodeeplab/export in its --plugin.\n',
    );
  addCommonOptions(command).action(async (networkPath: string, options: ExportFlags) => {
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
  const existing = await stat(options.out).catch(() => undefined);
  if (existing?.isDirectory())
    throw new UserInputError(`--out: ${options.out} is a directory; expected a file path such as ${resolve(options.out, 'model.onnx')}`);
}

export async function runExport(ctx: CommandContext, networkPath: string, options: ExportFlags): Promise<ExportedModel> {
  const { networkDir } = resolveNetworkDir(networkPath);
  await validateFlags(options);
  await setupBackend(ctx, options);
  const { loadNetwork } = await import('@autodeeplab/model');
  const { writeOnnx } = await import('@autodeeplab/export');
  const loaded = await loadNetwork(networkDir);
  const layout = options.nhwc ? 'NHWC' : 'NCHW';
  const out = resolve(options.out);
  try {
    await writeOnnx(out, loaded.network, {
      layout,
      ...(options.height !== undefined && options.width !== undefined ? { height: options.height, width: options.width } : {}),
      preprocessing: loaded.preprocessing,
      ...(loaded.classNames ? { classNames: loaded.classNames } : {}),
    }).catch((error: unknown) => {
      // The atomic write fails on its temporary file: name the file asked for, and why.
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && UNWRITABLE.has(code)) throw new UserInputError(`--out: cannot write ${out} (${code})`, { cause: error });
      throw error;
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
