/**
 * `autodeeplab export --format web` in a real browser: Debian's Chromium, driven by playwright-core,
 * loads the exported site from a server on 127.0.0.1 on each of its backends (WebGPU and WebGL on
 * SwiftShader, wasm), segments a PNG picked through the page's file input, and must give the class
 * indices of the Node forward on the cpu backend (tfjs's reference kernels) on ≥ 99.9% of pixels,
 * with no console error and no request outside the site.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import { decodeImage, encodeRgbPng, openSynthetic } from '@autodeeplab/datasets';
import { builtinGenotype, type Genotype } from '@autodeeplab/genotype';
import { buildNetwork, loadNetwork, saveNetwork, segmentPixels } from '@autodeeplab/model';
import { ReLUConvBN, hasOp, registerOp } from '@autodeeplab/ops';
import { launchChromium, openPage } from './browser.js';
import { REPO, cli } from './helpers.js';

/** WebGPU and WebGL on SwiftShader, Chromium's software Vulkan: no GPU needed. */
const GPU_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];
/** Docs screenshots: a folder for them, and optionally a run directory and image to show (the demo's). */
const SCREENSHOT_DIR = process.env.AUTODEEPLAB_WEB_SCREENSHOTS;
const SHOWN_NETWORK = process.env.AUTODEEPLAB_WEB_NETWORK;
const SHOWN_IMAGE = process.env.AUTODEEPLAB_WEB_IMAGE;
const MIN_AGREEMENT = 0.999;

/** What the page leaves in `window.autodeeplab.result` after a segmentation (see packages/web/src/main.ts). */
interface PageResult {
  classIds: Uint8Array;
  height: number;
  width: number;
  backend: string;
  milliseconds: number;
}

const MIME: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};

let root: string;
let site: string;
let networkDir: string;
let imagePath: string;
let server: Server;
let origin: string;
let browser: Browser;

/** A network whose BN statistics moved from their start (two train-mode passes), saved as training saves one. */
async function saveTestNetwork(dir: string, genotype = builtinGenotype('paper')): Promise<void> {
  const network = buildNetwork(genotype, {
    numClasses: 4,
    filterMultiplier: 4,
    stemFilters: [8, 8, 8],
    asppFilters: 8,
    lowLevelFilters: 4,
    decoderFilters: 8,
    name: 'web_e2e',
    seed: 7,
  });
  const x = tf.tensor4d(new Rng(8).normals(2 * 33 * 33 * 3), [2, 33, 33, 3]);
  for (let i = 0; i < 2; i++) tf.dispose(network.forward(x));
  x.dispose();
  const preprocessing = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  await saveNetwork(dir, network.eval(), { preprocessing, classNames: ['background', 'disc', 'square', 'triangle'] });
  network.dispose();
}

/** Serves a folder on 127.0.0.1, as any static server would. */
async function serve(dir: string): Promise<void> {
  server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url!, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    readFile(file)
      .then((body) => response.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' }).end(body))
      .catch(() => response.writeHead(404, 'Not Found').end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  root = await mkdtemp(join(tmpdir(), 'web-e2e-'));
  site = join(root, 'site');
  networkDir = SHOWN_NETWORK ?? join(root, 'network');
  if (!SHOWN_NETWORK) await saveTestNetwork(networkDir);
  imagePath = SHOWN_IMAGE ?? join(root, 'shapes.png');
  if (!SHOWN_IMAGE) {
    const sample = await openSynthetic({ kind: 'synthetic', size: 1, height: 57, width: 83, numClasses: 4, seed: 3 } as never).get(0);
    await writeFile(imagePath, encodeRgbPng(sample.image, sample.width, sample.height));
  }
  const exported = await cli(['export', networkDir, '--format', 'web', '--out', site, '--json']);
  expect(exported.code, exported.stderr).toBe(0);
  expect(JSON.parse(exported.stdout)).toMatchObject({ format: 'web', out: site });
  await serve(site);
  browser = await launchChromium(GPU_ARGS, 'the web page’s test');
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (root) await rm(root, { recursive: true, force: true });
});

/** Opens the site; it must make no request outside it. */
function open(query: string): Promise<{ page: Page; problems: string[] }> {
  return openPage(browser, `${origin}/${query}`, (url) => url.startsWith(origin) || url.startsWith('blob:') || url.startsWith('data:'));
}

/** The class indices Node computes for the image, on the cpu backend. */
async function nodeClassIds(): Promise<Uint8Array> {
  const loaded = await loadNetwork(networkDir);
  const image = await decodeImage(imagePath);
  const classIds = await segmentPixels(loaded.network.eval(), loaded.preprocessing, {
    data: image.data,
    height: image.height,
    width: image.width,
    channels: 3,
  });
  loaded.network.dispose();
  return classIds;
}

describe('the exported web page, in chromium', () => {
  let expected: Uint8Array;
  beforeAll(async () => {
    expected = await nodeClassIds();
  });

  it('the test image is not one class everywhere (else agreement would say little)', () => {
    expect(new Set(expected).size).toBeGreaterThanOrEqual(2);
  });

  it.each(['webgpu', 'webgl', 'wasm', 'auto'] as const)('on %s: the mask equals the Node forward on at least 99.9 per cent of pixels', async (backend) => {
    const { page, problems } = await open(`?backend=${backend}`);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
    await page.setInputFiles('#file', imagePath);
    await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 120_000 });
    expect(await page.textContent('#status')).not.toContain('error');
    const result = await page.evaluate(() => {
      const r = (globalThis as unknown as { autodeeplab: { result: PageResult } }).autodeeplab.result;
      return { ...r, classIds: Array.from(r.classIds) };
    });
    // With WebGPU on hand, the automatic choice is WebGPU.
    const ran = backend === 'auto' ? 'webgpu' : backend;
    expect(result.backend).toBe(ran);
    expect(await page.getAttribute('#backend', 'data-backend')).toBe(ran);
    const image = await decodeImage(imagePath);
    expect([result.height, result.width]).toEqual([image.height, image.width]);
    expect(result.classIds).toHaveLength(expected.length);
    const agreeing = result.classIds.filter((c, p) => c === expected[p]).length;
    expect(agreeing / expected.length).toBeGreaterThanOrEqual(MIN_AGREEMENT);
    // The page states the time, and lists each class present with its share.
    expect(Number(await page.getAttribute('#timing', 'data-milliseconds'))).toBeGreaterThan(0);
    const legend = await page.$$eval('#legend tbody tr', (rows) => rows.map((r) => Number(r.getAttribute('data-class'))));
    expect([...legend].sort()).toEqual([...new Set(result.classIds)].sort());
    if (SCREENSHOT_DIR && backend === 'auto') await page.screenshot({ path: join(SCREENSHOT_DIR, 'web-page.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('says what is wrong when the network cannot be fetched', async () => {
    const { page } = await open('?backend=wasm&model=./nowhere/model.json');
    await page.waitForSelector('body[data-state="error"]', { timeout: 60_000 });
    expect(await page.textContent('#status')).toBe(`${origin}/nowhere/model.json: cannot fetch: HTTP 404 Not Found`);
    await page.close();
  });
});

describe('autodeeplab export --format web: bad input exits 2 with one line', () => {
  async function expectUsageError(args: string[], message: string | RegExp): Promise<void> {
    const run = await cli(['export', ...args]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
  }

  it('a folder without a trained network, a flag of the onnx format, an --out that is not a site or cannot be written', async () => {
    await expectUsageError([join(site, 'assets'), '--format', 'web', '--out', join(root, 'x')], 'no trained network here');
    await expectUsageError([networkDir, '--format', 'web', '--nhwc'], '--nhwc, --height and --width are for --format onnx');
    const other = join(root, 'other');
    await mkdir(other);
    await writeFile(join(other, 'notes.txt'), 'mine');
    await expectUsageError([networkDir, '--format', 'web', '--out', other], `--out: ${other} is a folder with other files (notes.txt…)`);
    await expectUsageError(
      [networkDir, '--format', 'web', '--out', join(other, 'notes.txt', 'site')],
      `--out: cannot write ${join(other, 'notes.txt', 'site')}`,
    );
    expect(await readdir(other)).toEqual(['notes.txt']);
  });

  it('an earlier export is replaced whole', async () => {
    await writeFile(join(site, 'stale.txt'), 'from before');
    const again = await cli(['export', networkDir, '--format', 'web', '--out', site]);
    expect(again.code, again.stderr).toBe(0);
    expect((await readdir(site)).sort()).toEqual(['assets', 'index.html', 'model']);
  });

  it('a genotype with a plugin’s op: the page has the built-in ops only', async () => {
    // The op of the plugin fixture, registered here too so that this process can build and save the network.
    if (!hasOp('conv_1x1')) {
      registerOp(
        'conv_1x1',
        ({ name, channels, stride, affine, rng }) => new ReLUConvBN(name, { inChannels: channels, outChannels: channels, kernelSize: 1, stride, affine, rng }),
      );
    }
    const paper = builtinGenotype('paper');
    const withPluginOp: Genotype = { ...paper, cell: paper.cell.map((block, b) => (b === 0 ? [{ ...block[0], op: 'conv_1x1' }, block[1]] : block)) };
    const dir = join(root, 'plugin-network');
    await saveTestNetwork(dir, withPluginOp);
    const plugin = join(REPO, 'test/e2e/fixtures/conv1x1-plugin.mjs');
    await expectUsageError(
      [dir, '--format', 'web', '--out', join(root, 'plugin-site'), '--plugin', plugin],
      /uses op 'conv_1x1' from a plugin; the web page runs the built-in ops only/,
    );
  });
});
