import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileFormatError, Rng, initBackend } from '@autodeeplab/core';
import { builtinGenotype } from '@autodeeplab/genotype';
import { buildNetwork, loadNetwork, saveNetwork } from './index.js';
import { TINY } from './testing.js';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const preprocessing = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const options = { filterMultiplier: 2, numClasses: 3, ...TINY };

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  root = await mkdtemp(join(tmpdir(), 'adl-model-io-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A network whose BN statistics moved away from their initial values (two train-mode passes). */
function trainedNetwork(name: string) {
  const network = buildNetwork(builtinGenotype('paper'), { ...options, name, seed: 11 });
  const x = tf.tensor4d(new Rng(12).normals(2 * 33 * 33 * 3), [2, 33, 33, 3]);
  for (let i = 0; i < 2; i++) tf.dispose(network.forward(x));
  x.dispose();
  return network.eval();
}

function logitsOf(network: ReturnType<typeof trainedNetwork>, h: number, w: number, seed: number): Float32Array {
  const x = tf.tensor4d(new Rng(seed).normals(h * w * 3), [1, h, w, 3]);
  const y = network.forward(x);
  const values = y.dataSync() as Float32Array;
  tf.dispose([x, y]);
  return values;
}

describe('saveNetwork / loadNetwork', () => {
  it('writes one directory that a fresh process loads to identical logits', async () => {
    const dir = join(root, 'net');
    const network = trainedNetwork('io_a');
    const classNames = ['road', 'car', 'sky'];
    await saveNetwork(dir, network, { preprocessing, classNames });
    const files = (await readdir(dir)).sort();
    expect(files.filter((f) => !/^weights-[0-9a-f]+\.bin$/.test(f))).toEqual(['genotype.json', 'model.json', 'network.json']);
    expect(JSON.parse(await readFile(join(dir, 'genotype.json'), 'utf8')).path).toEqual(builtinGenotype('paper').path);
    const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    expect(manifest.weightsManifest[0].weights.length).toBe(network.stateDict().size);

    const expected = logitsOf(network, 37, 45, 5);
    const out = join(root, 'child.json');
    await run(process.execPath, ['--import', 'tsx', 'src/predict-child.ts', dir, out, '37', '45', '5'], { cwd: packageDir, timeout: 120_000 });
    const child = JSON.parse(await readFile(out, 'utf8'));
    expect(child.shape).toEqual([1, 37, 45, 3]);
    expect(child.preprocessing).toEqual(preprocessing);
    expect(child.classNames).toEqual(classNames);
    expect(child.logits.length).toBe(expected.length);
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(child.logits[i] - expected[i]!));
    expect(maxDiff).toBe(0);
    network.dispose();
  }, 180_000);

  it('loads in-process under another name, and a second save replaces the first', async () => {
    const dir = join(root, 'net2');
    const a = trainedNetwork('io_b');
    await saveNetwork(dir, a, { preprocessing });
    const b = buildNetwork(builtinGenotype('paper'), { ...options, name: 'io_c', seed: 99 }).eval();
    await saveNetwork(dir, b, { preprocessing });
    expect((await readdir(dir)).filter((f) => f.startsWith('weights-')).length).toBe(1);
    const loaded = await loadNetwork(dir, { name: 'io_loaded' });
    loaded.network.eval();
    expect(loaded.classNames).toBeUndefined();
    expect(loaded.config).toEqual(b.config);
    const expected = logitsOf(b, 21, 29, 6);
    const got = logitsOf(loaded.network, 21, 29, 6);
    expect(Array.from(got)).toEqual(Array.from(expected));
    [a, b, loaded.network].forEach((n) => n.dispose());
  });

  it('names the file and the tensor when weights do not fit', async () => {
    const dir = join(root, 'net3');
    const network = trainedNetwork('io_d');
    await saveNetwork(dir, network, { preprocessing });
    network.dispose();
    // Tamper with the authoritative config: the rebuilt network then has other shapes.
    const manifestPath = join(dir, 'model.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    manifest.metadata.network.config.decoderFilters = 7;
    await writeFile(manifestPath, JSON.stringify(manifest));
    const before = tf.memory().numTensors;
    const error = await loadNetwork(dir).catch((e: unknown) => e);
    expect(tf.memory().numTensors).toBe(before);
    expect(error).toBeInstanceOf(FileFormatError);
    expect((error as Error).message).toMatch(/model\.json: .*tensor 'decoder\/refine1\/conv\/kernel' has shape \[3,3,9,5\], expected \[3,3,9,7\]/);
  });

  it('loads a version 1 save with the constants its network was trained with', async () => {
    const dir = join(root, 'net_v1');
    const network = trainedNetwork('io_v1');
    await saveNetwork(dir, network, { preprocessing });
    expect(network.config).toMatchObject({ batchNormEpsilon: 1e-3, batchNormDecay: 0.9997, atrousDownsampling: 'resize', dropPathKeepProb: 1 });
    network.dispose();
    // What version 1 wrote: no BN constants, no atrous downsampling, no drop-path.
    const manifestPath = join(dir, 'model.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    expect(manifest.metadata.network.version).toBe(2);
    manifest.metadata.network.version = 1;
    for (const key of ['batchNormEpsilon', 'batchNormDecay', 'atrousDownsampling', 'dropPathKeepProb']) delete manifest.metadata.network.config[key];
    await writeFile(manifestPath, JSON.stringify(manifest));
    const loaded = await loadNetwork(dir, { name: 'io_v1_loaded' });
    expect(loaded.config).toMatchObject({ batchNormEpsilon: 1e-5, batchNormDecay: 0.9, atrousDownsampling: 'strided', dropPathKeepProb: 1 });
    expect(loaded.network.stem.bns[0]!.epsilon).toBe(1e-5);
    loaded.network.dispose();
  });

  it('rejects bad extras and a missing directory clearly', async () => {
    const network = buildNetwork(builtinGenotype('paper'), { ...options, name: 'io_e' });
    await expect(saveNetwork(join(root, 'x'), network, { preprocessing: { mean: [0.5], std: [0.5] } })).rejects.toThrow(
      /preprocessing.mean has 1 values, expected 3/,
    );
    await expect(saveNetwork(join(root, 'x'), network, { preprocessing, classNames: ['a'] })).rejects.toThrow(/classNames has 1 names, expected 3/);
    await expect(loadNetwork(join(root, 'missing'))).rejects.toThrow(/missing.*model\.json.*no checkpoint/);
    network.dispose();
  });
});
