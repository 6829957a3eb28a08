import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { BatchNorm, Conv2d } from './layers.js';
import { Module } from './module.js';
import { Rng } from './rng.js';

class Block extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm;
  readonly scale: tf.Variable;
  constructor(name: string, rng: Rng) {
    super(name);
    this.conv = this.addChild('conv', (n) => new Conv2d(n, { inChannels: 2, outChannels: 3, kernelSize: 3, rng }));
    this.bn = this.addChild('bn', (n) => new BatchNorm(n, { channels: 3 }));
    this.scale = this.addParameter('scale', () => tf.ones([1]), 'arch');
  }
}

describe('Module', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });
  const modules: Module[] = [];
  afterAll(() => modules.forEach((m) => m.dispose()));

  it('names variables by path and lists parameters by group', () => {
    const block = new Block('net/block1', new Rng(1));
    modules.push(block);
    expect([...block.namedParameters().keys()].sort()).toEqual(['bn/beta', 'bn/gamma', 'conv/kernel', 'scale']);
    expect([...block.namedParameters('arch').keys()]).toEqual(['scale']);
    expect([...block.namedParameters('weight').keys()].sort()).toEqual(['bn/beta', 'bn/gamma', 'conv/kernel']);
    expect([...block.namedBuffers().keys()].sort()).toEqual(['bn/running_mean', 'bn/running_var']);
    expect(block.conv.kernel.name).toBe('net/block1/conv/kernel');
    expect(block.parameterCount()).toBe(3 * 3 * 2 * 3 + 3 + 3 + 1);
    expect(block.parameterCount('arch')).toBe(1);
  });

  it('makes variable names unique when a second module of the same name is built', () => {
    const a = new Block('dup', new Rng(1));
    const b = new Block('dup', new Rng(1));
    modules.push(a, b);
    expect(a.conv.kernel.name).toBe('dup/conv/kernel');
    expect(b.conv.kernel.name).toBe('dup/conv/kernel_2');
    // State dicts use relative paths, so they are interchangeable.
    expect([...a.stateDict().keys()]).toEqual([...b.stateDict().keys()]);
  });

  it('gives the same weights for the same seed and others for another seed', () => {
    const a = new Block('seed/a', new Rng(5));
    const b = new Block('seed/b', new Rng(5));
    const c = new Block('seed/c', new Rng(6));
    modules.push(a, b, c);
    expect(a.conv.kernel.arraySync()).toEqual(b.conv.kernel.arraySync());
    expect(a.conv.kernel.arraySync()).not.toEqual(c.conv.kernel.arraySync());
  });

  it('propagates train/eval mode to every descendant', () => {
    const block = new Block('mode', new Rng(1));
    modules.push(block);
    expect(block.bn.training).toBe(true);
    block.eval();
    expect(block.bn.training).toBe(false);
    expect(block.conv.training).toBe(false);
    block.train();
    expect(block.bn.training).toBe(true);
  });

  it('loads a state dict with shape checks and names the offending tensor', () => {
    const a = new Block('load/a', new Rng(1));
    const b = new Block('load/b', new Rng(2));
    modules.push(a, b);
    b.loadStateDict(a.stateDict());
    expect(b.conv.kernel.arraySync()).toEqual(a.conv.kernel.arraySync());

    const wrong = new Map(a.stateDict() as Map<string, tf.Tensor>);
    const bad = tf.zeros([3, 3, 2, 4]);
    wrong.set('conv/kernel', bad);
    expect(() => b.loadStateDict(wrong, { source: 'ckpt/model.json' })).toThrow(
      /ckpt\/model.json: tensor 'conv\/kernel' has shape \[3,3,2,4\], expected \[3,3,2,3\]/,
    );
    const missing = new Map(a.stateDict() as Map<string, tf.Tensor>);
    missing.delete('bn/running_var');
    expect(() => b.loadStateDict(missing)).toThrow(/missing tensor 'bn\/running_var'/);
    expect(() => b.loadStateDict(missing, { strict: false })).not.toThrow();
    const extra = new Map(a.stateDict() as Map<string, tf.Tensor>);
    extra.set('other', bad);
    expect(() => b.loadStateDict(extra)).toThrow(/unexpected tensor 'other'/);
    bad.dispose();
  });

  it('frees every variable on dispose', () => {
    const before = tf.memory().numTensors;
    const block = new Block('dispose', new Rng(1));
    expect(tf.memory().numTensors).toBe(before + 6);
    block.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
