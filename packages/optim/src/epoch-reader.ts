import { UserInputError } from '@autodeeplab/core';
import type { Batch, BatchSource } from './types.js';

/** A batch reader over one epoch of a source that fails clearly when the source ends early. */
export class EpochReader {
  private iterator: AsyncIterator<Batch> | undefined;

  constructor(
    private readonly source: BatchSource,
    private readonly what: string,
  ) {}

  open(epoch: number, start: number): void {
    this.iterator = this.source.epoch(epoch, start)[Symbol.asyncIterator]();
  }

  async next(position: { epoch: number; index: number }): Promise<Batch> {
    if (!this.iterator) throw new Error(`${this.what}: read before open`);
    const result = await this.iterator.next();
    if (result.done) {
      throw new UserInputError(
        `${this.what} ended after batch ${position.index} of epoch ${position.epoch}, but it reports ${this.source.batchesPerEpoch} batches per epoch`,
      );
    }
    return result.value;
  }

  async close(): Promise<void> {
    const iterator = this.iterator;
    this.iterator = undefined;
    await iterator?.return?.();
  }
}
