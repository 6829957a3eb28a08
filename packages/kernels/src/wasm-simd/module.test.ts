import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FunctionBuilder, op } from './assembler.js';
import { SIMD_FUNCTION_NAMES, simdModuleBytes } from './module.js';
import { SIMD_MODULE_BASE64, SIMD_MODULE_SHA256 } from './module.snapshot.js';

const wasmApi = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;

describe('the SIMD module', () => {
  it('is byte for byte the module hand-assembled before the assembler (snapshot)', () => {
    const snapshot = Buffer.from(SIMD_MODULE_BASE64, 'base64');
    expect(createHash('sha256').update(snapshot).digest('hex')).toBe(SIMD_MODULE_SHA256);
    expect(Buffer.from(simdModuleBytes()).toString('base64')).toBe(SIMD_MODULE_BASE64);
  });

  it('validates and exports every function of SimdKernels', () => {
    const bytes = simdModuleBytes();
    expect(wasmApi.validate(bytes)).toBe(true);
    const text = Buffer.from(bytes).toString('latin1');
    for (const name of SIMD_FUNCTION_NAMES) expect(text).toContain(name);
  });
});

describe('FunctionBuilder', () => {
  it('numbers locals after the parameters and declares them in runs of one type', () => {
    const f = new FunctionBuilder('f', ['a', 'b']);
    expect(f.param).toEqual({ a: 0, b: 1 });
    expect([f.i32('i'), f.i32('j'), f.v128('v'), f.i32('k')]).toEqual([2, 3, 4, 5]);
    expect(f.paramCount).toBe(2);
    // size, 3 runs: 2 × i32, 1 × v128, 1 × i32, then the code.
    expect(f.encode(op.end)).toEqual([8, 3, 2, 0x7f, 1, 0x7b, 1, 0x7f, 0x0b]);
  });

  it('rejects a name used twice', () => {
    const f = new FunctionBuilder('f', ['x']);
    expect(() => f.i32('x')).toThrow(/'x' declared twice/);
  });
});
