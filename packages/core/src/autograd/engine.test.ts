import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { activeTape, isVariableNameTaken, recordingGradients, registeredVariableNames, runKernel, watchKernels } from './engine.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('engine accessors', () => {
  it('see a gradient tape only while one records', () => {
    expect(recordingGradients()).toBe(false);
    expect(activeTape()).toBeNull();
    const seen: { recording: boolean; tape: unknown }[] = [];
    const g = tf.grad((x: tf.Tensor) => {
      seen.push({ recording: recordingGradients(), tape: activeTape() });
      return tf.sum(tf.square(x));
    })(tf.tensor1d([1, 2]));
    expect(Array.from(g.dataSync())).toEqual([2, 4]);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.recording).toBe(true);
    expect(seen[0]!.tape).not.toBeNull();
    expect(recordingGradients()).toBe(false);
    g.dispose();
  });

  it('watchKernels sees every launch, by name and attributes, until stopped (nested watchers too)', () => {
    const a = tf.tensor1d([1, 2]);
    const outer: string[] = [];
    const inner: string[] = [];
    const stopOuter = watchKernels({ before: (name) => outer.push(name) });
    const stopInner = watchKernels({ after: (name) => inner.push(name) });
    tf.tidy(() => tf.add(a, a));
    stopInner();
    tf.tidy(() => tf.mul(a, a));
    stopOuter();
    stopOuter(); // idempotent
    tf.tidy(() => tf.sub(a, a));
    expect(inner).toEqual(['Add']);
    expect(outer).toEqual(['Add', 'Multiply']);
    let attrs: unknown;
    const stop = watchKernels({ before: (name, a2) => void (name === 'Transpose' && (attrs = a2)) });
    tf.tidy(() => tf.transpose(tf.zeros([2, 3]), [1, 0]));
    stop();
    expect(attrs).toMatchObject({ perm: [1, 0] });
    a.dispose();
  });

  it('runKernel runs a registered kernel by name; the variable registry is visible', () => {
    const x = tf.tensor1d([-1, 2]);
    const y = runKernel<tf.Tensor>('Relu', { x });
    expect(Array.from(y.dataSync())).toEqual([0, 2]);
    const before = registeredVariableNames().length;
    const v = tf.variable(x, true, 'engine_test_variable');
    expect(isVariableNameTaken('engine_test_variable')).toBe(true);
    expect(registeredVariableNames()).toHaveLength(before + 1);
    v.dispose();
    expect(isVariableNameTaken('engine_test_variable')).toBe(false);
    tf.dispose([x, y]);
  });
});
