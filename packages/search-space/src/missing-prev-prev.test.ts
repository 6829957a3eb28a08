import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '@autodeeplab/core';
import { cellEdges, type Scale } from '@autodeeplab/genotype';
import { DilConv, SepConv, type ReLUConvBN } from '@autodeeplab/ops';
import { parseSearchSpaceConfig, type MissingPrevPrev } from './config.js';
import { Supernet, planTrellis } from './supernet.js';
import { input, spread } from './testing/supernet-fixtures.js';

// The nodes (layer, scale) of the paper's trellis whose node (layer − 2, scale) does not exist.
const PAPER_MISSING = ['1/4', '1/8', '2/8', '2/16', '3/16', '3/32', '4/32'];

describe('a missing H^{l-2} (layer 1, the first two layers of scales 8, 16, 32)', () => {
  it('is dropped by default, substituted on request, at exactly 7 of the 45 nodes of the paper trellis', () => {
    expect(parseSearchSpaceConfig({}).missingPrevPrev).toBe('drop');
    expect(() => parseSearchSpaceConfig({ missingPrevPrev: 'copy' }, 'search.json')).toThrow(/search\.json.*missingPrevPrev/);
    for (const [mode, source] of [
      ['drop', 'none'],
      ['substitute', 'prev'],
    ] as const) {
      const nodes = planTrellis(parseSearchSpaceConfig({ missingPrevPrev: mode })).nodes;
      expect(nodes.length).toBe(45);
      const missing = nodes.filter((n) => n.prevPrevChannels === undefined).map((n) => `${n.layer}/${n.scale}`);
      expect(missing).toEqual(PAPER_MISSING);
      for (const n of nodes) expect(n.prevPrevSource, `${n.layer}/${n.scale}`).toBe(n.prevPrevChannels === undefined ? source : 'node');
    }
  });

  it('dropped: the cells of those nodes have no ops (no variables) on their H^{l-2} edges, every other edge keeps its ops', async () => {
    await initBackend({ backend: 'cpu' });
    const config = { layers: 4, blocks: 2, filterMultiplier: 1, scales: [4, 8, 16, 32] as Scale[], numClasses: 2, ops: ['skip_connect', 'dil_conv_3x3'] };
    const drop = new Supernet(config, { name: 'drop' });
    const substitute = new Supernet({ ...config, missingPrevPrev: 'substitute' }, { name: 'substitute' });
    const paths = [...drop.stateDict().keys()];
    const ppRows = cellEdges(2)
      .filter((e) => e.input === 'prev_prev')
      .map((e) => e.index);
    let removed = 0;
    for (const node of planTrellis(drop.config).nodes) {
      const key = `${node.layer}/${node.scale}`;
      const isMissing = PAPER_MISSING.includes(key);
      const cell = drop.cell(node.layer, node.scale);
      expect(cell.hasPrevPrev, key).toBe(!isMissing);
      for (const row of ppRows) {
        const prefix = `cell_l${node.layer}_s${node.scale}/edge${row}/`;
        expect(
          paths.some((p) => p.startsWith(prefix)),
          prefix,
        ).toBe(!isMissing);
        expect(cell.mixed[row] === undefined, prefix).toBe(isMissing);
      }
      // Brute force: the dropped cell holds the substituted cell's variables minus those of its H^{l-2} edges.
      const full = substitute.cell(node.layer, node.scale);
      const ppParameters = ppRows.reduce((s, row) => s + full.mixed[row]!.parameterCount(), 0);
      expect(cell.parameterCount(), key).toBe(full.parameterCount() - (isMissing ? ppParameters : 0));
      if (isMissing) removed += ppParameters;
    }
    // Each dil_conv_3x3 at block width f = s/4 has 9f² weights: 2 edges per missing node.
    const expectedRemoved = PAPER_MISSING.map((k) => Number(k.split('/')[1]) / 4).reduce((s, f) => s + 2 * 9 * f * f, 0);
    expect(removed).toBe(expectedRemoved);
    expect(substitute.parameterCount() - drop.parameterCount()).toBe(expectedRemoved);
    drop.dispose();
    substitute.dispose();
  });

  it('the node outputs of every forward equal an oracle written with plain tf ops from the modules’ weights, in both modes', async () => {
    await initBackend({ backend: 'cpu' });
    const base = { layers: 2, blocks: 2, filterMultiplier: 2, scales: [4, 8, 16] as Scale[], numClasses: 2 };
    const x = input([2, 19, 19, 3], 21);
    for (const mode of ['drop', 'substitute'] as const) {
      const net = new Supernet({ ...base, missingPrevPrev: mode }, { name: `oracle_${mode}`, seed: 7 });
      spread(net);
      const expected = tf.tidy(() => oracleLastLayer(net, x, mode));
      const scale = Math.max(...expected.map(maxAbs));
      for (const options of [{ fused: false }, { fused: true, recompute: false }, { fused: true, recompute: true }, { fused: true, stacked: false }]) {
        const got = tf.tidy(() => {
          const nodes = net.lastLayer(x, options);
          return [...nodes.values()];
        });
        expect(got.length).toBe(expected.length);
        expected.forEach((want, i) => {
          // float32: the same sums in another order; 1e-4 of the largest value is ~1000 ulps.
          expect(maxAbsDiff(got[i]!, want), `${mode} ${JSON.stringify(options)} node ${i}`).toBeLessThan(1e-4 * scale);
        });
        tf.dispose(got);
      }
      if (mode === 'substitute') {
        // The oracle tells the modes apart: the substituting supernet (the former behaviour) is far
        // from the dropping oracle on the same weights at the nodes that lack H^{l-2}.
        // Last layer: nodes (2, 4), (2, 8), (2, 16); the last two lack H^{l-2}, and (2, 4) reads (1, 8).
        const dropped = tf.tidy(() => oracleLastLayer(net, x, 'drop'));
        dropped.forEach((t, i) => expect(maxAbsDiff(t, expected[i]!), `node ${i}`).toBeGreaterThan(0.05 * scale));
        tf.dispose(dropped);
      }
      tf.dispose(expected);
      net.dispose();
    }
    x.dispose();
  });
});

function maxAbs(t: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]!);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => maxAbs(tf.sub(a, b)));
}

/** Non-affine BN with batch statistics. */
function bn(x: tf.Tensor4D, epsilon: number): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))) as tf.Tensor4D;
}

/** 3×3 average pooling, stride 1, SAME, padding not counted: window sums over window pixel counts. */
function averagePool(x: tf.Tensor4D): tf.Tensor4D {
  const pad: [number, number][] = [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ];
  const sums = tf.mul(tf.avgPool(tf.pad(x, pad), 3, 1, 'valid'), 9);
  const counts = tf.mul(tf.avgPool(tf.pad(tf.onesLike(x), pad), 3, 1, 'valid'), 9);
  return tf.div(sums, counts) as tf.Tensor4D;
}

/** The BN epsilon of the search network (README). */
const EPSILON = 1e-5;

/** ReLU → conv → BN of a transition or projection, from its kernel. */
function reluConvBn(module: ReLUConvBN, x: tf.Tensor4D, stride: 1 | 2): tf.Tensor4D {
  return bn(tf.conv2d(tf.relu(x), module.conv.kernel as tf.Tensor4D, stride, 'same'), EPSILON);
}

/** One op of a mixed op, by name, from its weights. */
function oracleOp(name: string, op: unknown, x: tf.Tensor4D, epsilon: number): tf.Tensor4D | undefined {
  if (name === 'none') return undefined;
  if (name === 'skip_connect') return x;
  if (name === 'max_pool_3x3') return bn(tf.maxPool(x, 3, 1, 'same'), epsilon);
  if (name === 'avg_pool_3x3') return bn(averagePool(x), epsilon);
  if (op instanceof SepConv) {
    const half = (h: tf.Tensor4D, dw: tf.Variable, pw: tf.Variable) =>
      bn(tf.conv2d(tf.depthwiseConv2d(tf.relu(h), dw as tf.Tensor4D, 1, 'same'), pw as tf.Tensor4D, 1, 'same'), epsilon);
    return half(half(x, op.dw1.kernel, op.pw1.kernel), op.dw2.kernel, op.pw2.kernel);
  }
  if (op instanceof DilConv) return bn(tf.conv2d(tf.relu(x), op.conv.kernel as tf.Tensor4D, 1, 'same', 'NHWC', 2), epsilon);
  throw new Error(`oracle: no formula for ${name}`);
}

/**
 * The last layer's nodes of the supernet's trellis written from the paper (eq. 6) and the README,
 * with the supernet's own modules used only as weight holders (the stem as is). Block b of a cell
 * sums, over its inputs [prev_prev, prev, block 1, …, block b−1] (α rows counted in that order),
 * Σ_k softmax(α_row)_k·O_k(input); without node (l − 2, s), prev_prev's edges are skipped ('drop')
 * or read the call's prev ('substitute').
 */
function oracleLastLayer(net: Supernet, x: tf.Tensor4D, mode: MissingPrevPrev): tf.Tensor4D[] {
  const { blocks, ops, layers } = net.config;
  const alpha = net.normalizedAlpha().arraySync();
  const beta = net.normalizedBeta().arraySync();
  const [, height, width] = x.shape;
  const history: Map<number, tf.Tensor4D>[] = [new Map([[4, net.applyStem(x)]])];
  for (let layer = 1; layer <= layers; layer++) {
    const current = new Map<number, tf.Tensor4D>();
    for (const scale of net.config.scales) {
      const incoming = net.topology.incoming(layer, scale as Scale);
      if (incoming.length === 0) continue;
      const [h, w] = [Math.ceil(height / scale), Math.ceil(width / scale)];
      const cell = net.cell(layer, scale as Scale);
      const before = history[layer - 2]?.get(scale);
      const projection = net.prevPrevProjection(layer, scale as Scale);
      const prevPrevNode = before && projection ? reluConvBn(projection, before, 1) : undefined;
      let node: tf.Tensor4D | undefined;
      for (const e of incoming) {
        const source = history[layer - 1]!.get(e.from)!;
        const t = net.transition(e);
        const prev =
          e.direction === 'down'
            ? reluConvBn(t, source, 2)
            : reluConvBn(t, e.direction === 'up' ? tf.image.resizeBilinear(source, [h, w], false, true) : source, 1);
        const prevPrev = prevPrevNode ?? (mode === 'substitute' ? prev : undefined);
        const states: (tf.Tensor4D | undefined)[] = [prevPrev, prev];
        let row = 0;
        for (let block = 1; block <= blocks; block++) {
          let sum: tf.Tensor4D | undefined;
          for (const state of states) {
            const edge = row++;
            if (state === undefined) continue;
            ops.forEach((name, k) => {
              const candidate = cell.mixed[edge]!.candidates[k]!;
              const y = oracleOp(name, candidate.op, state, EPSILON);
              if (!y) return;
              const weighted = tf.mul(alpha[edge]![k]!, y) as tf.Tensor4D;
              sum = sum ? (tf.add(sum, weighted) as tf.Tensor4D) : weighted;
            });
          }
          states.push(sum!);
        }
        const term = tf.mul(beta[e.index]!, tf.concat(states.slice(2) as tf.Tensor4D[], 3)) as tf.Tensor4D;
        node = node ? (tf.add(node, term) as tf.Tensor4D) : term;
      }
      current.set(scale, node!);
    }
    history.push(current);
  }
  // The oracle's α row order (per block: prev_prev, prev, earlier blocks) is cellEdges' order.
  const rows = Array.from({ length: blocks }, (_, b) =>
    ['prev_prev', 'prev', ...Array.from({ length: b }, (_, j) => `block${j + 1}`)].map((i) => `${b + 1}:${i}`),
  );
  expect(cellEdges(blocks).map((e) => `${e.block}:${e.input}`)).toEqual(rows.flat());
  return [...history[layers]!.values()];
}
