/**
 * The programmatic example of the README: compose the packages directly, with a custom candidate
 * operation registered next to the built-ins. Search a tiny supernet on synthetic data, decode it,
 * train the found network briefly and evaluate it.
 */
import { initBackend } from '@autodeeplab/core';
import { type Genotype } from '@autodeeplab/genotype';
import { ReLUConvBN, registerOp, hasOp } from '@autodeeplab/ops';
import { Supernet } from '@autodeeplab/search-space';
import { decode } from '@autodeeplab/decode';
import { buildNetwork } from '@autodeeplab/model';
import { datasetBatchSource, openDataset, searchSplit } from '@autodeeplab/datasets';
import { search, train, evaluate } from '@autodeeplab/optim';

/** A plain 1×1 convolution (ReLU → conv 1×1 → BN) as a new candidate op. */
export function registerConv1x1(): void {
  if (hasOp('conv_1x1')) return;
  registerOp(
    'conv_1x1',
    ({ name, channels, stride, affine, rng }) => new ReLUConvBN(name, { inChannels: channels, outChannels: channels, kernelSize: 1, stride, affine, rng }),
    { kind: 'conv', description: 'ReLU → 1×1 conv → BN' },
  );
}

export interface ExampleResult {
  genotype: Genotype;
  mIoU: number;
  pixelAccuracy: number;
}

export async function runExample(runDir: string): Promise<ExampleResult> {
  await initBackend(); // the fastest available backend (wasm without tfjs-node)
  registerConv1x1();

  const data = openDataset({ kind: 'synthetic', size: 8, height: 33, width: 33, numClasses: 3 });
  const { trainA, trainB } = searchSplit(data, { seed: 0 });
  // optim reads batches through a small interface; datasetBatchSource adapts a dataset to it
  // (training drops a last partial batch by default; evaluation keeps it).
  const batchesOf = (indices?: number[]) => datasetBatchSource(data, { indices, batchSize: 2, seed: 0 });

  // 1. Search: a 2-layer trellis over scales 4 and 8, with the custom op among the candidates.
  const supernet = new Supernet({
    layers: 2,
    blocks: 2,
    filterMultiplier: 2,
    scales: [4, 8],
    ops: ['none', 'skip_connect', 'sep_conv_3x3', 'conv_1x1'],
    numClasses: data.numClasses,
  });
  let genotype: Genotype;
  try {
    for await (const event of search({
      model: supernet,
      data: { trainA: batchesOf(trainA), trainB: batchesOf(trainB) },
      runDir: `${runDir}/search`,
      config: { epochs: 2, archStartEpoch: 1, checkpointEvery: 0 },
    })) {
      if (event.type === 'epoch') void event.meanLoss; // progress events: step, epoch, arch, checkpoint, done
    }
    // 2. Decode α (cell) and β (path, Viterbi).
    genotype = decode(supernet);
  } finally {
    supernet.dispose();
  }

  // 3. Train the discrete network of the genotype, narrow enough for a CPU.
  const network = buildNetwork(genotype, {
    filterMultiplier: 2,
    numClasses: data.numClasses,
    stemFilters: [8, 8, 8],
    asppFilters: 8,
    lowLevelFilters: 4,
    decoderFilters: 8,
  });
  try {
    for await (const _ of train({ model: network, data: { train: batchesOf() }, runDir: `${runDir}/train`, config: { epochs: 1, checkpointEvery: 0 } })) {
      // events as in the search
    }
    // 4. Evaluate.
    const all = datasetBatchSource(data, { batchSize: 2, seed: 0, shuffle: false, dropLast: false });
    const result = await evaluate({ model: network, data: all, numClasses: data.numClasses });
    return { genotype, mIoU: result.mIoU, pixelAccuracy: result.pixelAccuracy };
  } finally {
    network.dispose();
  }
}
