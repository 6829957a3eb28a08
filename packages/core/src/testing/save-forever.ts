// Test helper: saves checkpoints in a loop until killed (see checkpoint.test.ts).
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend.js';
import { saveCheckpoint } from '../checkpoint.js';

const dir = process.argv[2]!;
await initBackend({ backend: 'cpu' });
for (let i = 0; ; i++) {
  const w = tf.fill([1_000_000], i);
  await saveCheckpoint(dir, { w }, { i });
  w.dispose();
  process.stdout.write(`saved ${i}\n`);
}
