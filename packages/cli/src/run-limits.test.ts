import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeIndexedPng, encodeRgbPng } from '@autodeeplab/datasets';
import { EXIT_USAGE } from './errors.js';
import { builtinGenotype } from '@autodeeplab/genotype';
import { countParameters, resolveNetworkConfig } from '@autodeeplab/model';
import { MAX_TENSOR_VALUES, assertImageFits, backendMemoryLimit, minimumInputSide } from './run-limits.js';
import { runCaptured } from './testing.js';

const GiB = 2 ** 30;

/** A folder dataset of two black images of `size`×`size` (a search splits them in two), `big.png` first, and their masks. */
async function folderDataset(size: number): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'adl-cli-'));
  mkdirSync(join(root, 'images'));
  mkdirSync(join(root, 'masks'));
  writeFileSync(join(root, 'classes.json'), JSON.stringify({ classes: ['background', 'cat'] }));
  const image = encodeRgbPng(new Uint8Array(size * size * 3), size, size);
  const mask = await encodeIndexedPng(new Uint8Array(size * size), size, size, [[0, 0, 0]]);
  for (const name of ['big.png', 'other.png']) {
    writeFileSync(join(root, 'images', name), image);
    writeFileSync(join(root, 'masks', name), mask);
  }
  return root;
}

const search = (args: string[]) =>
  runCaptured(['search', '--epochs', '1', '--batch-size', '1', '--run-dir', join(mkdtempSync(join(tmpdir(), 'adl-cli-')), 'run'), ...args]);

describe('sizes a backend cannot hold are refused before the network is built, saying the limit', () => {
  it('--layers 100000: the memory floor against the wasm heap, in seconds (it used to grow past 3 GB)', async () => {
    const started = performance.now();
    const r = await search(['--dataset', 'synthetic', '--layers', '100000', '--backend', 'wasm']);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toMatch(
      /^autodeeplab: error: searchSpace\.layers 100000, filterMultiplier 8, a batch of 1 at 64×64 .*: a search step needs at least [\d.]+ TiB \(/,
    );
    expect(r.stderr).toContain("more than the wasm backend's 4 GiB heap (WebAssembly's 32-bit memory); use fewer --layers");
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it('--crop 100000x100000: the tensor limit, not "Invalid typed array length"', async () => {
    const r = await search(['--dataset', 'synthetic', '--crop', '100000x100000', '--backend', 'cpu']);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain('--crop 100000x100000 (data.transforms.crop): a batch of 1 at 100000×100000 makes a tensor of 40.00B values');
    expect(r.stderr).toContain('more than the 4.29B a tensor can hold');
  });

  it('an 8000×8000 image without a crop: named, with the limit and --crop as the fix, before the first step', async () => {
    const root = await folderDataset(8000);
    const r = await search(['--dataset', 'folder', '--data-root', root, '--backend', 'wasm']);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain(`(${join(root, 'images', 'big.png')} (8000×8000, no crop)): a search step needs at least`);
    expect(r.stderr).toContain("more than the wasm backend's 4 GiB heap");
    expect(r.stderr).toContain('--crop');
  });

  it('a 1×1 image without a crop: below the minimum input of the coarsest scale', async () => {
    const root = await folderDataset(1);
    const r = await search(['--dataset', 'folder', '--data-root', root, '--backend', 'cpu']);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toBe(
      `autodeeplab: error: ${join(root, 'images', 'big.png')} (1×1, no crop): the network input is 1×1, below its minimum of 33×33 ` +
        '(its coarsest scale, 1/32, needs 2 positions a side); give --crop 33x33 or larger (smaller images are padded) or set data.transforms.resize\n',
    );
  });
});

describe('the same checks for training, validation data and predict', () => {
  it('train --crop 16x16: below the minimum of the genotype’s coarsest scale', async () => {
    const run = join(mkdtempSync(join(tmpdir(), 'adl-cli-')), 'run');
    const r = await runCaptured(['train', '--dataset', 'synthetic', '--crop', '16x16', '--epochs', '1', '--run-dir', run, '--backend', 'cpu']);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain('--crop 16x16 (data.transforms.crop): the network input is 16×16, below its minimum of 33×33');
  });

  it('validation images smaller than the minimum, named as validation data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adl-cli-'));
    const config = join(dir, 'search.yaml');
    writeFileSync(
      config,
      [
        'dataset: {kind: synthetic, size: 8, height: 33, width: 33, numClasses: 3}',
        'val: {kind: synthetic, size: 2, height: 8, width: 8, numClasses: 3}',
        'searchSpace: {layers: 2, blocks: 2, filterMultiplier: 2, scales: [4, 8]}',
      ].join('\n'),
    );
    const r = await runCaptured(['search', '--config', config, '--run-dir', join(dir, 'run'), '--backend', 'cpu']);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toMatch(/validation data: .*\(8×8, no crop\): the network input is 8×8, below its minimum of 9×9 .*set data\.evalTransforms\.resize/);
  });

  it('predict: an image too large for the wasm heap, or too small, from its size alone', () => {
    const genotype = builtinGenotype('paper');
    const options = { preset: 'S' as const, numClasses: 19 };
    const loaded = { genotype, config: resolveNetworkConfig(options), parameters: countParameters(genotype, options) };
    expect(() => assertImageFits(loaded, { height: 8000, width: 8000, source: 'street.png' }, 'wasm')).toThrow(
      /^street\.png \(8000×8000\): segmenting it needs at least [\d.]+ GiB, more than the wasm backend's 4 GiB heap .*; resize the image \(or cut it into tiles\) first$/,
    );
    expect(() => assertImageFits(loaded, { height: 1, width: 1, source: 'dot.png' }, 'wasm')).toThrow(
      'dot.png (1×1): the network input is 1×1, below its minimum of 33×33 (its coarsest scale, 1/32, needs 2 positions a side); upscale the image or pad it',
    );
    expect(() => assertImageFits(loaded, { height: 1024, width: 2048, source: 'cityscapes.png' }, 'wasm')).not.toThrow();
  });
});

describe('limits', () => {
  it('wasm: 4 GiB whatever the machine; other backends: the machine’s memory', () => {
    expect(backendMemoryLimit('wasm', 64 * GiB).bytes).toBe(4 * GiB);
    expect(backendMemoryLimit('cpu', 16 * GiB)).toEqual({ bytes: 16 * GiB, what: "this machine's 16.0 GiB of memory (cpu backend)" });
    expect(MAX_TENSOR_VALUES).toBe(2 ** 32);
    expect(() => new Float32Array(MAX_TENSOR_VALUES + 1)).toThrow(/Invalid typed array length/);
  });

  it('the smallest input keeps 2 positions at the coarsest scale', () => {
    expect(minimumInputSide(32)).toBe(33);
    expect(minimumInputSide(8)).toBe(9);
  });
});

describe('predict refuses an image the backend cannot hold, from its header, before decoding it', () => {
  it('an 8000×8000 image: exit 2 naming it, with the limit', async () => {
    const { buildNetwork, saveNetwork } = await import('@autodeeplab/model');
    const { initBackend } = await import('@autodeeplab/core');
    await initBackend({ backend: 'cpu' });
    const dir = mkdtempSync(join(tmpdir(), 'adl-cli-'));
    const network = buildNetwork(builtinGenotype('paper'), { filterMultiplier: 2, numClasses: 3, seed: 1 });
    await saveNetwork(join(dir, 'network'), network, { preprocessing: { mean: [0, 0, 0], std: [1, 1, 1] } });
    network.dispose();
    const image = join(dir, 'street.png');
    writeFileSync(image, encodeRgbPng(new Uint8Array(8000 * 8000 * 3), 8000, 8000));
    const started = performance.now();
    const r = await runCaptured(['predict', join(dir, 'network'), image, '--out', join(dir, 'out'), '--backend', 'wasm']);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toMatch(/street\.png \(8000×8000\): segmenting it needs at least [\d.]+ GiB, more than the wasm backend's 4 GiB heap/);
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});
