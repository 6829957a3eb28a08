/**
 * A saved network loaded over HTTP (as a web page loads it) equals the one loaded from its directory;
 * a corrupt or missing weights file is refused, naming the URL.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileFormatError, Rng, initBackend } from '@autodeeplab/core';
import { builtinGenotype } from '@autodeeplab/genotype';
import { buildNetwork, loadNetwork, loadNetworkFromUrl, saveNetwork } from './index.js';
import { TINY } from './testing.js';

const preprocessing = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

let root: string;
let server: Server;
let base: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  root = await mkdtemp(join(tmpdir(), 'adl-model-url-'));
  // A static file server over the temporary folder, on 127.0.0.1 only.
  server = createServer((request, response) => {
    readFile(join(root, decodeURIComponent(new URL(request.url!, 'http://x').pathname)))
      .then((body) => response.writeHead(200).end(body))
      .catch(() => response.writeHead(404, 'Not Found').end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(root, { recursive: true, force: true });
});

async function savedNetwork(dir: string, name: string): Promise<void> {
  const network = buildNetwork(builtinGenotype('paper'), { filterMultiplier: 2, numClasses: 3, ...TINY, name, seed: 3 });
  const x = tf.tensor4d(new Rng(4).normals(2 * 33 * 33 * 3), [2, 33, 33, 3]);
  tf.dispose(network.forward(x)); // moves the BN statistics away from their initial values
  x.dispose();
  await saveNetwork(join(root, dir), network, { preprocessing, classNames: ['a', 'b', 'c'] });
  network.dispose();
}

describe('loadNetworkFromUrl', () => {
  it('loads the same network as loadNetwork on its directory: equal tensors, equal logits', async () => {
    await savedNetwork('net', 'url_a');
    const fromDir = await loadNetwork(join(root, 'net'), { name: 'url_dir' });
    const fromUrl = await loadNetworkFromUrl(`${base}/net/model.json`, { name: 'url_http' });
    expect(fromUrl.genotype).toEqual(fromDir.genotype);
    expect(fromUrl.config).toEqual(fromDir.config);
    expect(fromUrl.preprocessing).toEqual(preprocessing);
    expect(fromUrl.classNames).toEqual(['a', 'b', 'c']);
    const dirState = fromDir.network.stateDict();
    for (const [name, tensor] of fromUrl.network.stateDict()) expect(tensor.dataSync(), name).toEqual(dirState.get(name)!.dataSync());
    const x = tf.tensor4d(new Rng(5).normals(29 * 31 * 3), [1, 29, 31, 3]);
    const [a, b] = [fromDir.network.eval().forward(x), fromUrl.network.eval().forward(x)];
    expect(b.dataSync()).toEqual(a.dataSync());
    tf.dispose([x, a, b]);
    fromDir.network.dispose();
    fromUrl.network.dispose();
  });

  it('refuses a weights file that is missing, truncated or altered, naming its URL', async () => {
    await savedNetwork('bad', 'url_b');
    const weights = (await readdir(join(root, 'bad'))).find((f) => f.endsWith('.bin'))!;
    const path = join(root, 'bad', weights);
    const original = await readFile(path);
    const url = `${base}/bad/model.json`;

    const altered = Buffer.from(original);
    altered[0] = altered[0]! ^ 0xff;
    await writeFile(path, altered);
    await expect(loadNetworkFromUrl(url)).rejects.toThrow(`${base}/bad/${weights}: checksum mismatch (the file is corrupt)`);

    await writeFile(path, original.subarray(0, original.length - 4));
    await expect(loadNetworkFromUrl(url)).rejects.toThrow(/has \d+ bytes, expected \d+ \(truncated or corrupt\)/);

    await rm(path);
    const missing = loadNetworkFromUrl(url);
    await expect(missing).rejects.toBeInstanceOf(FileFormatError);
    await expect(missing).rejects.toThrow(`${base}/bad/${weights}: cannot fetch: HTTP 404 Not Found`);
    await expect(loadNetworkFromUrl(`${base}/nowhere/model.json`)).rejects.toThrow(`${base}/nowhere/model.json: cannot fetch: HTTP 404`);
  });
});
