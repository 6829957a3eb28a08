import * as tf from '@tensorflow/tfjs';
import { UserInputError } from '@autodeeplab/core';

/** A matrix given as nested arrays, a flat row-major typed array, or a 2-D tensor. */
export type MatrixLike = readonly (readonly number[])[] | Float32Array | Float64Array | tf.Tensor;
/** A vector given as an array, a typed array, or a 1-D tensor. */
export type VectorLike = readonly number[] | Float32Array | Float64Array | tf.Tensor;

/**
 * Reads a matrix of `rows × cols` into plain float64 rows; a flat array must hold exactly rows·cols
 * values. Tensors are read synchronously (decoding runs once, on small arrays).
 */
export function readMatrix(value: MatrixLike, rows: number, cols: number, what: string): number[][] {
  let flat: ArrayLike<number>;
  if (value instanceof tf.Tensor) {
    if (value.rank !== 2 || value.shape[0] !== rows || value.shape[1] !== cols) {
      throw new UserInputError(`${what}: expected a tensor of shape [${rows}, ${cols}], found [${value.shape.join(', ')}]`);
    }
    flat = value.dataSync();
  } else if (value instanceof Float32Array || value instanceof Float64Array) {
    if (value.length !== rows * cols) {
      throw new UserInputError(`${what}: expected ${rows}×${cols} = ${rows * cols} values, found ${value.length}`);
    }
    flat = value;
  } else {
    if (value.length !== rows) throw new UserInputError(`${what}: expected ${rows} rows, found ${value.length}`);
    value.forEach((row, r) => {
      if (row.length !== cols) throw new UserInputError(`${what}: row ${r} has ${row.length} values, expected ${cols}`);
    });
    flat = value.flat();
  }
  const out: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const row: number[] = [];
    for (let c = 0; c < cols; c++) {
      const x = flat[r * cols + c]!;
      if (!Number.isFinite(x)) throw new UserInputError(`${what}: entry [${r}][${c}] is ${x}, expected a finite number`);
      row.push(x);
    }
    out.push(row);
  }
  return out;
}

/** Reads a vector of `length` values into a plain float64 array. */
export function readVector(value: VectorLike, length: number, what: string): number[] {
  let flat: ArrayLike<number>;
  if (value instanceof tf.Tensor) {
    if (value.size !== length || value.rank !== 1) {
      throw new UserInputError(`${what}: expected a tensor of shape [${length}], found [${value.shape.join(', ')}]`);
    }
    flat = value.dataSync();
  } else {
    if (value.length !== length) throw new UserInputError(`${what}: expected ${length} values, found ${value.length}`);
    flat = value;
  }
  const out = Array.from(flat, Number);
  out.forEach((x, i) => {
    if (!Number.isFinite(x)) throw new UserInputError(`${what}: entry [${i}] is ${x}, expected a finite number`);
  });
  return out;
}

/** Softmax of one row, in float64, shifted by the maximum for stability. */
export function softmax(row: readonly number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}
