/**
 * A tiny WebAssembly assembler: the opcodes, the LEB128 and section encoders, a few instruction
 * sequences the SIMD functions share, and a function builder that names its locals and derives
 * the local declarations from them. No toolchain is needed: each SIMD function (one file each in
 * this folder) writes its bytes with these helpers, and `module.ts` assembles them.
 * Opcodes: WebAssembly core, bulk memory and the SIMD proposal as shipped in V8 ≥ 9.1.
 */

/** Value types. */
export const I32 = 0x7f;
export const V128 = 0x7b;
/** The block type of a block, loop or if that leaves nothing on the stack. */
const VOID = 0x40;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const simd = (code: number): number[] => [0xfd, ...uleb(code)];
/** A memory access with alignment hint 4 bytes and a constant byte offset. */
const memarg = (offset: number): number[] => [2, ...uleb(offset)];

/** The instructions the SIMD functions use (arrays: some encode to several bytes). */
export const op = {
  block: [0x02, VOID],
  loop: [0x03, VOID],
  if: [0x04, VOID],
  /** An if whose branches each leave one v128. */
  ifV128: [0x04, V128],
  else: [0x05],
  end: [0x0b],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  localGet: (i: number) => [0x20, ...uleb(i)],
  localSet: (i: number) => [0x21, ...uleb(i)],
  localTee: (i: number) => [0x22, ...uleb(i)],
  i32Const: (k: number) => [0x41, ...sleb(k)],
  f32ConstZero: [0x43, 0, 0, 0, 0],
  i32LtU: [0x49],
  i32GeU: [0x4f],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32And: [0x71],
  f32ReinterpretI32: [0xbe],
  memoryCopy: [0xfc, ...uleb(10), 0x00, 0x00],
  v128Load: (offset: number) => [...simd(0x00), ...memarg(offset)],
  v128Load32Splat: (offset: number) => [...simd(0x09), ...memarg(offset)],
  v128Store: (offset: number) => [...simd(0x0b), ...memarg(offset)],
  f32x4Splat: simd(0x13),
  f32x4Eq: simd(0x41),
  f32x4Gt: simd(0x44),
  v128And: simd(0x4e),
  v128AndNot: simd(0x4f),
  v128Or: simd(0x50),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
} as const;

const get = op.localGet;
const set = op.localSet;

/** local[i] += k. */
export const addConst = (i: number, k: number): number[] => [...get(i), ...op.i32Const(k), ...op.i32Add, ...set(i)];
/** local[i] += local[k]. */
export const addLocal = (i: number, k: number): number[] => [...get(i), ...get(k), ...op.i32Add, ...set(i)];
/** local[i] −= 1, leaving "local[i] ≠ 0" for a br_if. */
export const decrement = (i: number): number[] => [...get(i), ...op.i32Const(1), ...op.i32Sub, ...op.localTee(i)];
/** Branches back to the enclosing loop while local[i] ≠ 0 after decrementing it. */
export const loopWhileDecremented = (i: number): number[] => [...decrement(i), ...op.brIf(0)];
/** Branches back to the enclosing loop while local[i] < local[limit] (unsigned). */
export const repeatWhileBelow = (i: number, limit: number): number[] => [...get(i), ...get(limit), ...op.i32LtU, ...op.brIf(0)];
/** Pushes "local[limit] − local[i] ≥ k" (unsigned): whether a block of k more bytes fits. */
export const remainingAtLeast = (limit: number, i: number, k: number): number[] => [...get(limit), ...get(i), ...op.i32Sub, ...op.i32Const(k), ...op.i32GeU];

type ValueType = typeof I32 | typeof V128;

/**
 * One function under construction: i32 parameters named in order (indices 0, 1, …), then locals
 * declared by name (indices after the parameters, in declaration order). `encode` writes the local
 * declarations from what was declared, so no count is kept by hand.
 */
export class FunctionBuilder<P extends string> {
  /** Parameter indices by name. */
  readonly param: Readonly<Record<P, number>>;
  private readonly names: string[];
  private readonly localTypes: ValueType[] = [];

  constructor(
    readonly exportName: string,
    params: readonly P[],
  ) {
    this.param = Object.fromEntries(params.map((name, i) => [name, i])) as Record<P, number>;
    this.names = [...params];
  }

  get paramCount(): number {
    return this.names.length - this.localTypes.length;
  }

  /** Declares an i32 local; returns its index. */
  i32(name: string): number {
    return this.declare(name, I32);
  }

  /** Declares a v128 local; returns its index. */
  v128(name: string): number {
    return this.declare(name, V128);
  }

  /** Declares `count` consecutive v128 locals `name0`, `name1`, …; returns the first index. */
  v128s(name: string, count: number): number {
    const first = this.v128(`${name}0`);
    for (let i = 1; i < count; i++) this.v128(`${name}${i}`);
    return first;
  }

  /** The function's body: local declarations (runs of one type) and `code`, with its size prefix. */
  encode(code: readonly number[]): number[] {
    const groups: number[] = [];
    let runs = 0;
    for (let i = 0; i < this.localTypes.length;) {
      let j = i;
      while (j < this.localTypes.length && this.localTypes[j] === this.localTypes[i]) j++;
      groups.push(...uleb(j - i), this.localTypes[i]!);
      runs++;
      i = j;
    }
    const locals = [...uleb(runs), ...groups];
    return [...uleb(locals.length + code.length), ...locals, ...code];
  }

  private declare(name: string, type: ValueType): number {
    if (this.names.includes(name)) throw new Error(`${this.exportName}: local '${name}' declared twice`);
    this.names.push(name);
    this.localTypes.push(type);
    return this.names.length - 1;
  }
}

/** An assembled function: its export name, i32 parameter count and encoded body. */
export interface AssembledFunction {
  name: string;
  params: number;
  body: number[];
}

/** Assembles the builder's function from its code. */
export function assemble<P extends string>(f: FunctionBuilder<P>, code: readonly number[]): AssembledFunction {
  return { name: f.exportName, params: f.paramCount, body: f.encode(code) };
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

const utf8Name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];

/**
 * A module of `functions` (function i of type i: i32 parameters, no result), each exported under its
 * name, importing `env.memory` (at least 0 pages, no maximum: the host's heap).
 */
export function moduleBytes(functions: readonly AssembledFunction[]): Uint8Array {
  const n = functions.length;
  const fnType = (params: number) => [0x60, ...uleb(params), ...Array<number>(params).fill(I32), 0];
  const types = section(1, [...uleb(n), ...functions.flatMap((f) => fnType(f.params))]);
  const imports = section(2, [1, ...utf8Name('env'), ...utf8Name('memory'), 0x02, 0x00, 0x00]);
  const funcs = section(3, [...uleb(n), ...functions.flatMap((_, i) => uleb(i))]);
  const exports = section(7, [...uleb(n), ...functions.flatMap((f, i) => [...utf8Name(f.name), 0x00, ...uleb(i)])]);
  const code = section(10, [...uleb(n), ...functions.flatMap((f) => f.body)]);
  const magicAndVersion = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  return new Uint8Array([...magicAndVersion, ...types, ...imports, ...funcs, ...exports, ...code]);
}
