/**
 * A tiny hand-assembled WebAssembly SIMD function that works directly on the wasm backend's heap
 * (it imports the backend's own WebAssembly.Memory, so nothing is copied):
 *
 *   tapReduce(x, dy, acc, rows, xRowStride, dyRowStride, cols, xColStride, dyColStride, cBytes)
 *     acc[c] += Σ_{r < rows, j < cols} x[r·xRowStride + j·xColStride + c] · dy[r·dyRowStride + j·dyColStride + c]
 *
 * for every float32 channel c < cBytes/4 (all pointers and strides in bytes; rows, cols ≥ 1; cBytes a
 * positive multiple of 16). That is one tap of a depthwise filter gradient over a block of rows.
 * Channels go 8 at a time (two independent f32x4 accumulators, to hide the add latency), then 4.
 * No toolchain is needed: the bytes are written below with a few helpers.
 */

// Opcodes (WebAssembly core + SIMD proposal, as shipped in V8 ≥ 9.1).
const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  brIf: 0x0d,
  get: 0x20,
  set: 0x21,
  i32const: 0x41,
  i32geU: 0x4f,
  i32ltU: 0x49,
  i32add: 0x6a,
  i32sub: 0x6b,
  void: 0x40,
} as const;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
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

const simd = (code: number) => [0xfd, ...uleb(code)];
/** v128.load / v128.store with alignment hint 4 bytes and a constant offset. */
const v128load = (offset: number) => [...simd(0x00), 2, ...uleb(offset)];
const v128store = (offset: number) => [...simd(0x0b), 2, ...uleb(offset)];
const f32x4add = simd(0xe4);
const f32x4mul = simd(0xe6);

const get = (i: number) => [op.get, i];
const set = (i: number) => [op.set, i];
const addConst = (i: number, k: number) => [...get(i), op.i32const, ...sleb(k), op.i32add, ...set(i)];
const addLocal = (i: number, k: number) => [...get(i), ...get(k), op.i32add, ...set(i)];
/** local[i] −= 1, leaving "local[i] ≠ 0" for a br_if. */
const decrement = (i: number) => [...get(i), op.i32const, 1, op.i32sub, op.set + 1 /* local.tee */, i];

// Parameters.
const X = 0, DY = 1, ACC = 2, ROWS = 3, XRS = 4, DRS = 5, COLS = 6, XCS = 7, DCS = 8, CB = 9;
// Locals.
const C = 10, R = 11, J = 12, XR = 13, DR = 14, XP = 15, DP = 16, V0 = 17, V1 = 18;

/** The row/column double loop around `body` (which reads xp, dp), for one block of channels at offset c. */
function rowsAndCols(body: number[]): number[] {
  return [
    ...get(X), ...get(C), op.i32add, ...set(XR),
    ...get(DY), ...get(C), op.i32add, ...set(DR),
    ...get(ROWS), ...set(R),
    op.loop, op.void,
    ...get(XR), ...set(XP),
    ...get(DR), ...set(DP),
    ...get(COLS), ...set(J),
    op.loop, op.void,
    ...body,
    ...addLocal(XP, XCS),
    ...addLocal(DP, DCS),
    ...decrement(J), op.brIf, 0,
    op.end,
    ...addLocal(XR, XRS),
    ...addLocal(DR, DRS),
    ...decrement(R), op.brIf, 0,
    op.end,
  ];
}

/** v = v + x[xp + off] · dy[dp + off] */
const mac = (v: number, off: number) => [...get(v), ...get(XP), ...v128load(off), ...get(DP), ...v128load(off), ...f32x4mul, ...f32x4add, ...set(v)];
const accAddr = () => [...get(ACC), ...get(C), op.i32add];

function functionBody(): number[] {
  const eight = [
    ...accAddr(), ...v128load(0), ...set(V0),
    ...accAddr(), ...v128load(16), ...set(V1),
    ...rowsAndCols([...mac(V0, 0), ...mac(V1, 16)]),
    ...accAddr(), ...get(V0), ...v128store(0),
    ...accAddr(), ...get(V1), ...v128store(16),
    ...addConst(C, 32),
  ];
  const four = [
    ...accAddr(), ...v128load(0), ...set(V0),
    ...rowsAndCols(mac(V0, 0)),
    ...accAddr(), ...get(V0), ...v128store(0),
    ...addConst(C, 16),
  ];
  const code = [
    op.loop, op.void,
    ...get(CB), ...get(C), op.i32sub, op.i32const, 32, op.i32geU,
    op.if, op.void, ...eight, op.else, ...four, op.end,
    ...get(C), ...get(CB), op.i32ltU, op.brIf, 0,
    op.end,
    op.end,
  ];
  // Locals: 7 × i32 (c, r, j, xr, dr, xp, dp), 2 × v128.
  const locals = [2, 7, I32, 2, V128];
  return [...uleb(locals.length + code.length), ...locals, ...code];
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

const name = (s: string) => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];

function moduleBytes(): Uint8Array {
  const type = section(1, [1, 0x60, 10, ...Array<number>(10).fill(I32), 0]);
  // Imports env.memory: a memory with at least 0 pages and no maximum (the backend's heap).
  const imports = section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0x00]);
  const funcs = section(3, [1, 0]);
  const exports = section(7, [1, ...name('tapReduce'), 0x00, 0]);
  const code = section(10, [1, ...functionBody()]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...imports, ...funcs, ...exports, ...code]);
}

export type TapReduce = (
  x: number,
  dy: number,
  acc: number,
  rows: number,
  xRowStride: number,
  dyRowStride: number,
  cols: number,
  xColStride: number,
  dyColStride: number,
  cBytes: number,
) => void;

/** The slice of the WebAssembly JS API used here (this package's TS lib has no DOM/WebAssembly types). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: abstract new (...args: never[]) => WasmMemory;
}
const WASM = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** True for a WebAssembly.Memory object. */
export function isWasmMemory(m: unknown): m is WasmMemory {
  return WASM != null && m instanceof WASM.Memory;
}

let compiled: object | null | undefined;
const instances = new WeakMap<WasmMemory, TapReduce>();

/**
 * `tapReduce` bound to `memory`, or null where it cannot run (no WebAssembly SIMD, or a shared
 * memory — the threaded backend — which would need a matching import declaration).
 */
export function tapReduceFor(memory: WasmMemory): TapReduce | null {
  const cached = instances.get(memory);
  if (cached != null) return cached;
  if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) return null;
  if (WASM == null) return null;
  if (compiled === undefined) {
    try {
      compiled = new WASM.Module(moduleBytes());
    } catch {
      compiled = null; // no SIMD support
    }
  }
  if (compiled == null) return null;
  const instance = new WASM.Instance(compiled, { env: { memory } });
  const fn = instance.exports.tapReduce as TapReduce;
  instances.set(memory, fn);
  return fn;
}

/** Exposed for tests: the module's bytes (to check they validate). */
export const simdReduceModuleBytes = moduleBytes;
