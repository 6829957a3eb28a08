/**
 * Test fixtures that worker threads import by path: the tiny searchable model, and variants that
 * fail inside a worker (throw, or end the thread) after a number of forwards.
 */
import * as tf from '@tensorflow/tfjs';
import { isMainThread } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { TinySearchModel } from '../../testing/tiny.js';
import type { ModelDescriptor } from '../protocol.js';

export const MODELS_PATH = fileURLToPath(new URL('./models.ts', import.meta.url));

export function tinyModel(name: string, options: { seed?: number } = {}): TinySearchModel {
  return new TinySearchModel(name, options);
}

/** A tiny model whose forwards in a worker thread fail from the `after`-th on (0-based). */
export function faultyTinyModel(name: string, options: { seed?: number }, fault: { after: number; kind: 'throw' | 'exit' }): TinySearchModel {
  let calls = 0;
  return new (class extends TinySearchModel {
    override forward(x: tf.Tensor4D): tf.Tensor4D {
      if (!isMainThread && calls++ >= fault.after) {
        if (fault.kind === 'exit') process.exit(7);
        throw new RangeError(`injected failure in forward ${calls}`);
      }
      return super.forward(x);
    }
  })(name, options);
}

export function tinyDescriptor(seed = 99): ModelDescriptor {
  return { module: MODELS_PATH, export: 'tinyModel', args: ['replica', { seed }] };
}

export function faultyDescriptor(after: number, kind: 'throw' | 'exit'): ModelDescriptor {
  return { module: MODELS_PATH, export: 'faultyTinyModel', args: ['replica', { seed: 5 }, { after, kind }] };
}
