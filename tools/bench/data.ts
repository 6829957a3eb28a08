/**
 * Input-pipeline benchmark: how fast the datasets package decodes, augments and batches Cityscapes-sized
 * images (1024×2048 PNGs) into 321×321 crops, and whether it keeps up with a training step.
 *
 *   npx tsx tools/bench/data.ts [--images 6] [--batches 24] [--batch-size 2] [--prefetch 4] [--step-ms 300]
 *
 * It writes a small Cityscapes tree (leftImg8bit + gtFine labelIds) to a temp dir first, then measures:
 *  - decode: one sample (image + label PNG, label mapping) at a time, and 4 at once;
 *  - pipeline: the batcher alone (consumer does nothing) for the search setting (half resolution, crop 321,
 *    flip) and a training setting (random scale 0.5–2 at full resolution, crop 321, flip);
 *  - overlap: with a synchronous busy "step" of --step-ms per batch (as a wasm training step blocks the
 *    event loop), how long the consumer still waits for each batch (0 = the model is the bottleneck).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { batches, openDataset, type Dataset, type TransformConfig } from '@autodeeplab/datasets';
import { formatTable, intArg, median, parseArgs, writeResults } from './common.ts';

const args = parseArgs(process.argv.slice(2));
const NUM_IMAGES = intArg(args, 'images', 6);
const NUM_BATCHES = intArg(args, 'batches', 24);
const BATCH = intArg(args, 'batch-size', 2);
const PREFETCH = intArg(args, 'prefetch', 4);
const STEP_MS = intArg(args, 'step-ms', 300);
const H = 1024;
const W = 2048;

/** A photo-like image: gradients, large structures and mild noise (compresses like a real frame). */
function syntheticFrame(seed: number): { image: Buffer; label: Buffer } {
  const image = Buffer.alloc(H * W * 3);
  const label = Buffer.alloc(H * W);
  let s = seed * 2654435761;
  const rand = () => (s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 4294967296;
  const ids = [7, 8, 11, 21, 23, 26, 24, 0, 17];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const region = (Math.floor(x / 256 + Math.sin(y / 97 + seed)) + Math.floor(y / 200)) % ids.length;
      const base = 60 + region * 18 + 40 * Math.sin((x + seed * 50) / 180) * Math.cos(y / 140);
      const o = (y * W + x) * 3;
      const n = (rand() - 0.5) * 16;
      image[o] = Math.max(0, Math.min(255, base + n + 20));
      image[o + 1] = Math.max(0, Math.min(255, base + n));
      image[o + 2] = Math.max(0, Math.min(255, base + n - 15));
      label[y * W + x] = ids[(region + 9) % ids.length]!;
    }
  }
  return { image, label };
}

async function writeTree(root: string): Promise<number[]> {
  const sizes: number[] = [];
  for (let i = 0; i < NUM_IMAGES; i++) {
    const base = `benchcity_${String(i).padStart(6, '0')}_000019`;
    const { image, label } = syntheticFrame(i + 1);
    const img = join(root, 'leftImg8bit/train/benchcity', `${base}_leftImg8bit.png`);
    const lab = join(root, 'gtFine/train/benchcity', `${base}_gtFine_labelIds.png`);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(root, 'leftImg8bit/train/benchcity'), { recursive: true });
    mkdirSync(join(root, 'gtFine/train/benchcity'), { recursive: true });
    await sharp(image, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toFile(img);
    await sharp(label, { raw: { width: W, height: H, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(lab);
    sizes.push(statSync(img).size);
  }
  return sizes;
}

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* a synchronous compute step */
  }
}

interface PipelineResult {
  setting: string;
  batches: number;
  imagesPerSecond: number;
  msPerBatch: number;
  medianWaitMs: number;
}

/** Runs the batcher over as many epochs as needed for `count` batches; optional synchronous step. */
async function runPipeline(ds: Dataset, setting: string, transforms: TransformConfig, count: number, stepMs: number): Promise<PipelineResult> {
  const waits: number[] = [];
  let images = 0;
  let done = 0;
  const t0 = performance.now();
  for (let epoch = 0; done < count; epoch++) {
    const stream = batches(ds, { batchSize: BATCH, transforms, seed: 1, epoch, prefetch: PREFETCH, dropLast: true });
    const it = stream[Symbol.asyncIterator]();
    for (;;) {
      const w0 = performance.now();
      const next = await it.next();
      if (next.done) break;
      waits.push(performance.now() - w0);
      images += next.value.batchSize;
      done++;
      if (stepMs > 0) busyWait(stepMs);
      if (done >= count) {
        await it.return?.();
        break;
      }
    }
  }
  const elapsed = performance.now() - t0;
  // The first batch includes the pipeline's cold start; report the steady state as well.
  return {
    setting,
    batches: done,
    imagesPerSecond: (images / elapsed) * 1000,
    msPerBatch: elapsed / done,
    medianWaitMs: median(waits.slice(Math.min(PREFETCH, waits.length - 1))),
  };
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'adl-bench-data-'));
  try {
    const fileSizes = await writeTree(root);
    const ds = openDataset({ kind: 'cityscapes', root });

    // Decode: one at a time, then 4 concurrently (thread pool).
    const single: number[] = [];
    for (let r = 0; r < 2; r++) {
      for (let i = 0; i < ds.size; i++) {
        const t = performance.now();
        await ds.get(i);
        single.push(performance.now() - t);
      }
    }
    const t4 = performance.now();
    let count4 = 0;
    for (let r = 0; r < 2; r++) {
      for (let i = 0; i < ds.size; i += 4) {
        const group = Array.from({ length: Math.min(4, ds.size - i) }, (_, k) => ds.get(i + k));
        count4 += (await Promise.all(group)).length;
      }
    }
    const concurrentMs = (performance.now() - t4) / count4;

    const search: TransformConfig = { resize: 0.5, crop: [321, 321], flip: true };
    const train: TransformConfig = { scale: [0.5, 2.0], crop: [321, 321], flip: true };
    const results: PipelineResult[] = [
      await runPipeline(ds, 'search: half-res, crop 321, flip', search, NUM_BATCHES, 0),
      await runPipeline(ds, 'train: scale 0.5-2, crop 321, flip', train, NUM_BATCHES, 0),
      await runPipeline(ds, `search + ${STEP_MS} ms sync step`, search, Math.min(NUM_BATCHES, 16), STEP_MS),
    ];

    const table = formatTable(
      ['setting', 'batches', 'images/s', 'ms/batch', 'median wait ms'],
      results.map((r) => [r.setting, String(r.batches), r.imagesPerSecond.toFixed(2), r.msPerBatch.toFixed(1), r.medianWaitMs.toFixed(1)]),
    );
    process.stderr.write(
      `decode 1024×2048 PNG image + label: ${median(single).toFixed(1)} ms/sample sequential, ${concurrentMs.toFixed(1)} ms/sample with 4 concurrent\n` +
        `mean PNG size ${(fileSizes.reduce((a, b) => a + b, 0) / fileSizes.length / 2 ** 20).toFixed(2)} MiB; batch ${BATCH}, prefetch ${PREFETCH}, ` +
        `UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}, sharp concurrency ${sharp.concurrency()}\n\n${table}\n\n`,
    );
    writeResults('data', {
      config: {
        images: NUM_IMAGES,
        size: [H, W],
        crop: [321, 321],
        batchSize: BATCH,
        prefetch: PREFETCH,
        stepMs: STEP_MS,
        threadpool: process.env.UV_THREADPOOL_SIZE ?? 4,
      },
      decode: {
        sequentialMsPerSample: median(single),
        concurrent4MsPerSample: concurrentMs,
        meanPngBytes: fileSizes.reduce((a, b) => a + b, 0) / fileSizes.length,
      },
      pipeline: results,
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
