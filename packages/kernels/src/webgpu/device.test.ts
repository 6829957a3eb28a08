import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backend.js';
import { TestRandom } from '../testing/random.js';
import { GpuDeviceError, webGpuAdapter } from './device.js';

interface DeviceBackend {
  device: { limits: { maxStorageBuffersPerShaderStage: number }; createBuffer(descriptor: { size: number; usage: number }): unknown };
}

describe('webgpu device', () => {
  it('runs on an adapter it describes', async () => {
    await useBackend('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(webGpuAdapter()?.dawnBackend).toMatch(/^(vulkan|opengles|metal|d3d12)$/);
  });

  it('AddN of more inputs than a shader can bind equals the float64 sum, with no tensor left behind', async () => {
    await useBackend('webgpu');
    const limit = (tf.backend() as unknown as DeviceBackend).device.limits.maxStorageBuffersPerShaderStage;
    const rng = new TestRandom(3);
    for (const n of [limit - 1, limit, limit + 1, 3 * limit + 2]) {
      const values = Array.from({ length: n }, () => Float32Array.from({ length: 257 }, () => rng.normal()));
      const inputs = values.map((v) => tf.tensor1d(v));
      const before = tf.memory().numTensors;
      const sum = tf.addN(inputs);
      expect(tf.memory().numTensors - before).toBe(1);
      const got = await sum.data();
      for (let i = 0; i < 257; i++) {
        const exact = values.reduce((s, v) => s + v[i]!, 0);
        // n float32 additions of values ~N(0, 1): rounding ≤ n · 2⁻²⁴ · Σ|v|.
        expect(Math.abs(got[i]! - exact), `n = ${n}, element ${i}`).toBeLessThan(n * 6e-8 * values.reduce((s, v) => s + Math.abs(v[i]!), 0) + 1e-7);
      }
      tf.dispose([...inputs, sum]);
    }
  });

  // Last: the device stays failed, as it must for a run that met an error.
  it('a validation error on the device makes the next read throw, naming it', async () => {
    await useBackend('webgpu');
    const x = tf.add(tf.ones([4]), tf.ones([4]));
    expect(Array.from(await x.data())).toEqual([2, 2, 2, 2]);
    // A buffer with no usage is invalid: Dawn reports it asynchronously, as it does a failed kernel.
    (tf.backend() as unknown as DeviceBackend).device.createBuffer({ size: 16, usage: 0 });
    const y = tf.add(x, x);
    await expect(y.data()).rejects.toThrow(GpuDeviceError);
    await expect(y.data()).rejects.toThrow(/the WebGPU device failed: .*usage/i);
    tf.dispose([x, y]);
  });
});
