// Child process of io.test.ts: loads a saved network in a fresh process and writes its logits.
// Usage: node --import tsx src/predict-child.ts <dir> <out.json> <height> <width> <seed>
import { writeFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { Rng, initBackend } from '@autodeeplab/core';
import { loadNetwork } from './io.js';

const [dir, out, height, width, seed] = process.argv.slice(2) as [string, string, string, string, string];
await initBackend({ backend: 'cpu' });
const { network, preprocessing, classNames } = await loadNetwork(dir);
network.eval();
const h = Number(height);
const w = Number(width);
const x = tf.tensor4d(new Rng(Number(seed)).normals(h * w * network.config.inChannels), [1, h, w, network.config.inChannels]);
const logits = network.forward(x);
await writeFile(out, JSON.stringify({ logits: Array.from(await logits.data()), shape: logits.shape, preprocessing, classNames }));
