import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { measurePeakBytes, memorySource, trackMemory } from './memory.js';

describe('memory tracking', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`on ${backend}: peak, live and allocated bytes of a hand-counted sequence`, async () => {
      await initBackend({ backend });
      const source = backend === 'wasm' ? 'wasm-heap' : 'tensor-bytes';
      expect(memorySource()).toBe(source);
      const before = tf.ones([1000]); // made before tracking: not counted
      const [one, two] = [tf.scalar(1), tf.scalar(2)];
      const tracker = trackMemory();
      try {
        const a = tf.add(before, one); // 4000 bytes
        const b = tf.mul(a, two); // 8000 live
        a.dispose(); // 4000 live
        const c = tf.reshape(b, [10, 100]); // shares b's buffer: one buffer on the heap, counted twice by tfjs
        expect(tracker.live()).toBe(source === 'wasm-heap' ? 4000 : 8000);
        tf.dispose([b, c]);
        before.dispose(); // freed, but was never counted
        expect(tracker.live()).toBe(source === 'wasm-heap' ? 0 : -4000);
        expect(tracker.peak()).toBe(8000);
        expect(tracker.allocated()).toBe(source === 'wasm-heap' ? 8000 : 12000);
        expect(tracker.source).toBe(source);
      } finally {
        tracker.stop();
        tf.dispose([one, two]);
      }
    });
  }

  it('measurePeakBytes returns the result and restores the allocator', async () => {
    await initBackend({ backend: 'wasm' });
    const { result, peakBytes, source } = measurePeakBytes(() => tf.tidy(() => tf.sum(tf.ones([256, 4])).dataSync()[0]));
    expect(result).toBe(1024);
    expect(source).toBe('wasm-heap');
    // ones [256, 4] (4096 bytes) and the sum (4 bytes) coexist.
    expect(peakBytes).toBe(4100);
    const again = trackMemory();
    tf.dispose(tf.ones([10]));
    expect(again.allocated()).toBe(40);
    again.stop();
  });
});
