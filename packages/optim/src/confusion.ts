import { UserInputError } from '@autodeeplab/core';
import { IGNORE_LABEL } from './loss.js';

export interface SegmentationMetrics {
  /** Mean IoU over the classes present (union > 0) in ground truth or prediction. */
  mIoU: number;
  /** Correct pixels / non-ignored pixels. */
  pixelAccuracy: number;
  /** IoU per class; null for a class absent from both ground truth and prediction. */
  perClassIoU: (number | null)[];
  /** Non-ignored pixels counted. */
  pixels: number;
}

/**
 * A confusion matrix over `numClasses` classes: rows are ground truth, columns predictions.
 * Counts are float64, exact up to 2^53 pixels.
 */
export class ConfusionMatrix {
  readonly counts: Float64Array;

  constructor(
    readonly numClasses: number,
    readonly ignoreLabel = IGNORE_LABEL,
  ) {
    if (!(Number.isInteger(numClasses) && numClasses > 0)) throw new UserInputError(`numClasses must be a positive integer, found ${numClasses}`);
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /** Adds one prediction/label pair per pixel; pixels labelled `ignoreLabel` are skipped. */
  update(predictions: ArrayLike<number>, labels: ArrayLike<number>): this {
    if (predictions.length !== labels.length) {
      throw new UserInputError(`confusion matrix: ${predictions.length} predictions for ${labels.length} labels`);
    }
    const k = this.numClasses;
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i]!;
      if (label === this.ignoreLabel) continue;
      const prediction = predictions[i]!;
      if (!(label >= 0 && label < k && Number.isInteger(label))) {
        throw new UserInputError(`confusion matrix: label ${label} at pixel ${i} is outside 0..${k - 1} and not the ignore label ${this.ignoreLabel}`);
      }
      if (!(prediction >= 0 && prediction < k && Number.isInteger(prediction))) {
        throw new UserInputError(`confusion matrix: prediction ${prediction} at pixel ${i} is outside 0..${k - 1}`);
      }
      this.counts[label * k + prediction]! += 1;
    }
    return this;
  }

  /** Adds another matrix's counts (e.g. from a parallel worker). */
  merge(other: ConfusionMatrix): this {
    if (other.numClasses !== this.numClasses) throw new Error(`cannot merge ${other.numClasses}-class matrix into ${this.numClasses}-class one`);
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    return this;
  }

  reset(): void {
    this.counts.fill(0);
  }

  get(label: number, prediction: number): number {
    return this.counts[label * this.numClasses + prediction]!;
  }

  metrics(): SegmentationMetrics {
    const k = this.numClasses;
    const rows = new Float64Array(k);
    const cols = new Float64Array(k);
    let total = 0;
    let correct = 0;
    for (let r = 0; r < k; r++) {
      for (let c = 0; c < k; c++) {
        const n = this.counts[r * k + c]!;
        rows[r]! += n;
        cols[c]! += n;
        total += n;
        if (r === c) correct += n;
      }
    }
    const perClassIoU: (number | null)[] = [];
    let sum = 0;
    let present = 0;
    for (let c = 0; c < k; c++) {
      const tp = this.counts[c * k + c]!;
      const union = rows[c]! + cols[c]! - tp;
      if (union > 0) {
        const iou = tp / union;
        perClassIoU.push(iou);
        sum += iou;
        present++;
      } else {
        perClassIoU.push(null);
      }
    }
    return { mIoU: present > 0 ? sum / present : 0, pixelAccuracy: total > 0 ? correct / total : 0, perClassIoU, pixels: total };
  }
}
