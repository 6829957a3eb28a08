/**
 * A tiny hand-assembled WebAssembly SIMD function that works directly on the wasm backend's heap
 * (it imports the backend's own WebAssembly.Memory, so nothing is copied):
 *
 *   tapReduce(x, dy, acc, rows, xRowStride, dyRowStride, cols, xColStride, dyColStride, cBytes)
 *     acc[c] += Σ_{r < rows, j < cols} x[r·xRowStride + j·xColStride + c] · dy[r·dyRowStride + j·dyColStride + c]
 *
 * for every float32 channel c < cBytes/4 (all pointers and strides in bytes; rows, cols ≥ 1; cBytes a
 * positive multiple of 16). That is one tap of a depthwise filter gradient over a block of rows.
 * A second function, `tapOuter` (below), does one tap of a regular filter gradient.
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

/**
 * A function body: its locals (after the parameters: `i32Locals` i32s, then `v128Locals` v128s) and
 * its code, with the size prefix.
 */
function encodeBody(i32Locals: number, v128Locals: number, code: number[]): number[] {
  const groups = [...(i32Locals > 0 ? [i32Locals, I32] : []), ...(v128Locals > 0 ? [v128Locals, V128] : [])];
  const locals = [groups.length / 2, ...groups];
  return [...uleb(locals.length + code.length), ...locals, ...code];
}

/** Branches back to the enclosing loop while local[i] < local[limit] (unsigned). */
const repeatWhileBelow = (i: number, limit: number) => [...get(i), ...get(limit), op.i32ltU, op.brIf, 0];

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
    ...repeatWhileBelow(C, CB),
    op.end,
    op.end,
  ];
  // Locals: 7 × i32 (c, r, j, xr, dr, xp, dp), 2 × v128.
  return encodeBody(7, 2, code);
}

// ---------------------------------------------------------------------------------------------
// tapOuter: one tap of a regular filter gradient, a sum of outer products over a block of pixels.
//
//   tapOuter(x, dy, acc, rows, xRowStride, dyRowStride, cols, xColStride, dyColStride, ci, coBytes)
//     acc[c·coBytes/4 + o] += Σ_{r < rows, j < cols} x[r·xRowStride + j·xColStride + c] · dy[r·dyRowStride + j·dyColStride + o]
//
// for c < ci (≥ 1) and float32 o < coBytes/4 (coBytes a positive multiple of 16); acc is a row-major
// [ci, coBytes/4] block. Register blocking: 4 input channels × 8 output channels (eight f32x4
// accumulators, x broadcast by v128.load32_splat, dy loaded as two vectors), with 1-channel and
// 4-output-channel tails; every block sweeps all pixels, keeping its accumulators in registers.
//
// tapOuterStrided: the same with two more parameters, xChanStride and accRowStride (bytes), which
// replace 4 and coBytes as the steps between consecutive c in x and in acc:
//     acc[c·accRowStride + 4·o] += Σ x[… + c·xChanStride] · dy[… + 4·o]
// That is one tap of a regular INPUT gradient along a run of pixels (c = the pixel, the sum over
// the output channels, dy = the filter transposed to [Co, Ci]).

interface OuterLayout {
  strided: boolean;
  X: number; DY: number; ACC: number; ROWS: number; XRS: number; DRS: number; COLS: number; XCS: number; DCS: number; CI: number; COB: number;
  /** Step between consecutive c in x / acc rows (parameters when strided, else unused). */
  XCH: number; ARS: number;
  // Locals.
  CIX: number; XC: number; AR: number; CO: number; R: number; J: number; XR: number; DR: number; XP: number; DP: number;
  /** x pointers of c = 1, 2, 3 in the current pixel (strided only). */
  XP1: number; XP2: number; XP3: number;
  D0: number; S: number; A: number;
  params: number;
  i32Locals: number;
}

function outerLayout(strided: boolean): OuterLayout {
  const params = strided ? 13 : 11;
  const l = params;
  const i32Locals = strided ? 13 : 10;
  const v = params + i32Locals;
  return {
    strided, X: 0, DY: 1, ACC: 2, ROWS: 3, XRS: 4, DRS: 5, COLS: 6, XCS: 7, DCS: 8, CI: 9, COB: 10, XCH: 11, ARS: 12,
    CIX: l, XC: l + 1, AR: l + 2, CO: l + 3, R: l + 4, J: l + 5, XR: l + 6, DR: l + 7, XP: l + 8, DP: l + 9,
    XP1: l + 10, XP2: l + 11, XP3: l + 12,
    // v128: two dy vectors, the broadcast x, 8 accumulators.
    D0: v, S: v + 2, A: v + 3,
    params, i32Locals,
  };
}

const I32MUL = 0x6c;
const load32splat = (offset: number) => [...simd(0x09), 2, ...uleb(offset)];

/** k · (local i): the step of k channels. */
function times(L: OuterLayout, k: number, i: number): number[] {
  return k === 1 ? get(i) : [...get(i), op.i32const, ...sleb(k), I32MUL];
}

/** Address of accumulator row c of the current block: ar + co + c·rowStride. */
function outerAccAddr(L: OuterLayout, c: number): number[] {
  const base = [...get(L.AR), ...get(L.CO), op.i32add];
  return c === 0 ? base : [...base, ...times(L, c, L.strided ? L.ARS : L.COB), op.i32add];
}

/** The pixel sweep for a block of `nc` input channels × `nv` f32x4 of output channels. */
function outerKernel(L: OuterLayout, nc: number, nv: number): number[] {
  const acc = (c: number, v: number) => L.A + c * 2 + v;
  const loads: number[] = [];
  const stores: number[] = [];
  for (let c = 0; c < nc; c++) {
    for (let v = 0; v < nv; v++) {
      loads.push(...outerAccAddr(L, c), ...v128load(16 * v), ...set(acc(c, v)));
      stores.push(...outerAccAddr(L, c), ...get(acc(c, v)), ...v128store(16 * v));
    }
  }
  const pixel: number[] = [];
  for (let v = 0; v < nv; v++) pixel.push(...get(L.DP), ...v128load(16 * v), ...set(L.D0 + v));
  for (let c = 0; c < nc; c++) {
    if (L.strided) {
      const ptr = [L.XP, L.XP1, L.XP2, L.XP3][c] as number;
      if (c > 0) pixel.push(...get(L.XP), ...get(ptr), op.i32add, ...load32splat(0), ...set(L.S));
      else pixel.push(...get(L.XP), ...load32splat(0), ...set(L.S));
    } else {
      pixel.push(...get(L.XP), ...load32splat(4 * c), ...set(L.S));
    }
    for (let v = 0; v < nv; v++) {
      pixel.push(...get(acc(c, v)), ...get(L.S), ...get(L.D0 + v), ...f32x4mul, ...f32x4add, ...set(acc(c, v)));
    }
  }
  return [
    ...loads,
    ...get(L.XC), ...set(L.XR),
    ...get(L.DY), ...get(L.CO), op.i32add, ...set(L.DR),
    ...get(L.ROWS), ...set(L.R),
    op.loop, op.void,
    ...get(L.XR), ...set(L.XP),
    ...get(L.DR), ...set(L.DP),
    ...get(L.COLS), ...set(L.J),
    op.loop, op.void,
    ...pixel,
    ...addLocal(L.XP, L.XCS),
    ...addLocal(L.DP, L.DCS),
    ...decrement(L.J), op.brIf, 0,
    op.end,
    ...addLocal(L.XR, L.XRS),
    ...addLocal(L.DR, L.DRS),
    ...decrement(L.R), op.brIf, 0,
    op.end,
    ...stores,
  ];
}

/** All output-channel blocks (8 at a time, then 4) for `nc` input channels, then advance by nc channels. */
function outerChannels(L: OuterLayout, nc: number): number[] {
  return [
    op.i32const, 0, ...set(L.CO),
    op.loop, op.void,
    ...get(L.COB), ...get(L.CO), op.i32sub, op.i32const, 32, op.i32geU,
    op.if, op.void, ...outerKernel(L, nc, 2), ...addConst(L.CO, 32), op.else, ...outerKernel(L, nc, 1), ...addConst(L.CO, 16), op.end,
    ...repeatWhileBelow(L.CO, L.COB),
    op.end,
    ...addConst(L.CIX, nc),
    ...(L.strided ? [...get(L.XC), ...times(L, nc, L.XCH), op.i32add, ...set(L.XC)] : addConst(L.XC, 4 * nc)),
    ...get(L.AR), ...times(L, nc, L.strided ? L.ARS : L.COB), op.i32add, ...set(L.AR),
  ];
}

function outerFunctionBody(strided: boolean): number[] {
  const L = outerLayout(strided);
  const code = [
    ...get(L.X), ...set(L.XC),
    ...get(L.ACC), ...set(L.AR),
    ...(strided
      ? [...get(L.XCH), ...set(L.XP1), ...times(L, 2, L.XCH), ...set(L.XP2), ...times(L, 3, L.XCH), ...set(L.XP3)]
      : []),
    op.loop, op.void,
    ...get(L.CI), ...get(L.CIX), op.i32sub, op.i32const, 4, op.i32geU,
    op.if, op.void, ...outerChannels(L, 4), op.else, ...outerChannels(L, 1), op.end,
    ...repeatWhileBelow(L.CIX, L.CI),
    op.end,
    op.end,
  ];
  return encodeBody(L.i32Locals, 11, code);
}


// ---------------------------------------------------------------------------------------------
// channelAffine: a per-channel affine map of one or two NHWC tensors over a run of pixels,
//
//   channelAffine(a, b, out, s1, s2, t, pixels, cBytes, aStride, bStride, outStride)
//     out[p·outStride + c] = a[p·aStride + c]·s1[c] + b[p·bStride + c]·s2[c] + t[c]
//
// for p < pixels (≥ 1) and float32 c < cBytes/4 (cBytes a positive multiple of 16; strides and
// offsets in bytes); out may be a or b (in place). The building block of the fused BN kernels
// (normalising: a = b = x; the BN gradient: a = dy, b = y, all strides cBytes) and of the edges'
// weighted sums (a term shared by all edges read with a smaller stride than the output's).
const AF = { A: 0, B: 1, OUT: 2, S1: 3, S2: 4, T: 5, PIX: 6, CB: 7, AS: 8, BS: 9, OS: 10, C: 11 } as const;

function affineFunctionBody(): number[] {
  const at = (ptr: number) => [...get(ptr), ...get(AF.C), op.i32add, ...v128load(0)];
  const code = [
    op.loop, op.void,
    op.i32const, 0, ...set(AF.C),
    op.loop, op.void,
    ...get(AF.OUT), ...get(AF.C), op.i32add,
    ...at(AF.A), ...at(AF.S1), ...f32x4mul,
    ...at(AF.B), ...at(AF.S2), ...f32x4mul, ...f32x4add,
    ...at(AF.T), ...f32x4add,
    ...v128store(0),
    ...addConst(AF.C, 16),
    ...repeatWhileBelow(AF.C, AF.CB),
    op.end,
    ...addLocal(AF.A, AF.AS),
    ...addLocal(AF.B, AF.BS),
    ...addLocal(AF.OUT, AF.OS),
    ...decrement(AF.PIX), op.brIf, 0,
    op.end,
    op.end,
  ];
  return encodeBody(1, 0, code);
}

// reluMask(x, dy, out, nBytes): out[i] = x[i] > 0 ? dy[i] : 0 for the nBytes/4 floats (nBytes a
// positive multiple of 16): the gradient of ReLU.
const RM = { X: 0, DY: 1, OUT: 2, N: 3, I: 4, ZERO: 5 } as const;
const f32x4gt = simd(0x44);
const v128and = simd(0x4e);
const f32x4splat = simd(0x13);
const F32_CONST_ZERO = [0x43, 0, 0, 0, 0];

function reluMaskFunctionBody(): number[] {
  const at = (ptr: number) => [...get(ptr), ...get(RM.I), op.i32add, ...v128load(0)];
  const code = [
    ...F32_CONST_ZERO, ...f32x4splat, ...set(RM.ZERO),
    op.loop, op.void,
    ...get(RM.OUT), ...get(RM.I), op.i32add,
    ...at(RM.DY),
    ...at(RM.X), ...get(RM.ZERO), ...f32x4gt,
    ...v128and,
    ...v128store(0),
    ...addConst(RM.I, 16),
    ...repeatWhileBelow(RM.I, RM.N),
    op.end,
    op.end,
  ];
  return encodeBody(1, 1, code);
}

// sgdMomentum(w, g, v, wOut, vOut, nBytes, lrBits, muBits, wdBits, flags): one SGD-with-momentum
// update of nBytes/4 floats (nBytes a positive multiple of 16), every operation an f32 lane op as in
// the op-by-op form: g' = g + w·wd (flags bit 0), v' = v·μ + g', w' = w − lr·d with d = v' or, with
// flags bit 1 (Nesterov), g' + v'·μ. lr, μ, wd are passed as their float32 bit patterns.
const SG = { W: 0, G: 1, V: 2, WOUT: 3, VOUT: 4, N: 5, LR: 6, MU: 7, WD: 8, FLAGS: 9, I: 10, LRV: 11, MUV: 12, WDV: 13, WI: 14, GI: 15, VI: 16 } as const;
const f32x4sub = simd(0xe5);
const F32_REINTERPRET_I32 = 0xbe;
const I32AND = 0x71;

function sgdMomentumFunctionBody(): number[] {
  const splat = (param: number, local: number) => [...get(param), F32_REINTERPRET_I32, ...f32x4splat, ...set(local)];
  const at = (ptr: number) => [...get(ptr), ...get(SG.I), op.i32add];
  const flag = (bit: number) => [...get(SG.FLAGS), op.i32const, bit, I32AND];
  const code = [
    ...splat(SG.LR, SG.LRV), ...splat(SG.MU, SG.MUV), ...splat(SG.WD, SG.WDV),
    op.loop, op.void,
    ...at(SG.W), ...v128load(0), ...set(SG.WI),
    ...at(SG.G), ...v128load(0), ...set(SG.GI),
    // g' = g + w·wd
    ...flag(1), op.if, op.void,
    ...get(SG.GI), ...get(SG.WI), ...get(SG.WDV), ...f32x4mul, ...f32x4add, ...set(SG.GI),
    op.end,
    // v' = v·μ + g'
    ...at(SG.V), ...v128load(0), ...get(SG.MUV), ...f32x4mul, ...get(SG.GI), ...f32x4add, ...set(SG.VI),
    ...at(SG.VOUT), ...get(SG.VI), ...v128store(0),
    // w' = w − d·lr
    ...at(SG.WOUT), ...get(SG.WI),
    ...flag(2), op.if, V128,
    ...get(SG.GI), ...get(SG.VI), ...get(SG.MUV), ...f32x4mul, ...f32x4add,
    op.else,
    ...get(SG.VI),
    op.end,
    ...get(SG.LRV), ...f32x4mul, ...f32x4sub, ...v128store(0),
    ...addConst(SG.I, 16),
    ...repeatWhileBelow(SG.I, SG.N),
    op.end,
    op.end,
  ];
  return encodeBody(1, 6, code);
}

// maxPoolGrad(x, y, dy, dx, pixels, cBytes, xPixel, oPixel, tapRows, tapCols, xRow, xCol): the
// max-pool gradient of a run of output pixels sharing one rectangle of valid taps. For each output
// pixel and float32 channel c < cBytes/4, dy is added to dx at the FIRST tap (row-major) whose x
// equals the pooled y (tfjs' routing: the first maximum of the window). x and dx point at the first
// valid tap of the run's first pixel; the taps are xRow / xCol bytes apart, consecutive output
// pixels xPixel bytes apart in x and dx and oPixel in y and dy. pixels, tapRows, tapCols ≥ 1.
const MP = {
  X: 0, Y: 1, DY: 2, DX: 3, PIX: 4, CB: 5, XPIX: 6, OPIX: 7, NP: 8, NQ: 9, XROW: 10, XCOL: 11,
  C: 12, A: 13, B: 14, OFF: 15, ROW: 16, ADDR: 17, YV: 18, DV: 19, FOUND: 20, M: 21, ZERO: 22,
} as const;
const f32x4eq = simd(0x41);
const v128andnot = simd(0x4f);
const v128or = simd(0x50);

function maxPoolGradFunctionBody(): number[] {
  const loadAt = (ptr: number, off: number) => [...get(ptr), ...get(off), op.i32add, ...v128load(0)];
  const code = [
    ...F32_CONST_ZERO, ...f32x4splat, ...set(MP.ZERO),
    op.loop, op.void, // output pixels
    op.i32const, 0, ...set(MP.C),
    op.loop, op.void, // channel quads
    ...loadAt(MP.Y, MP.C), ...set(MP.YV),
    ...loadAt(MP.DY, MP.C), ...set(MP.DV),
    ...get(MP.ZERO), ...set(MP.FOUND),
    ...get(MP.C), ...set(MP.ROW),
    ...get(MP.NP), ...set(MP.A),
    op.loop, op.void, // tap rows
    ...get(MP.ROW), ...set(MP.OFF),
    ...get(MP.NQ), ...set(MP.B),
    op.loop, op.void, // tap columns
    // m = (x == y) & ~found: the first maximum only.
    ...loadAt(MP.X, MP.OFF), ...get(MP.YV), ...f32x4eq, ...get(MP.FOUND), ...v128andnot, ...set(MP.M),
    // dx += m & dy
    ...get(MP.DX), ...get(MP.OFF), op.i32add, ...set(MP.ADDR),
    ...get(MP.ADDR), ...get(MP.ADDR), ...v128load(0), ...get(MP.M), ...get(MP.DV), ...v128and, ...f32x4add, ...v128store(0),
    ...get(MP.FOUND), ...get(MP.M), ...v128or, ...set(MP.FOUND),
    ...addLocal(MP.OFF, MP.XCOL),
    ...decrement(MP.B), op.brIf, 0,
    op.end,
    ...addLocal(MP.ROW, MP.XROW),
    ...decrement(MP.A), op.brIf, 0,
    op.end,
    ...addConst(MP.C, 16),
    ...repeatWhileBelow(MP.C, MP.CB),
    op.end,
    ...addLocal(MP.X, MP.XPIX), ...addLocal(MP.DX, MP.XPIX), ...addLocal(MP.Y, MP.OPIX), ...addLocal(MP.DY, MP.OPIX),
    ...decrement(MP.PIX), op.brIf, 0,
    op.end,
    op.end,
  ];
  return encodeBody(6, 5, code);
}

// copyRuns(src, dst, count, nBytes, srcStride, dstStride): count runs of nBytes bytes, run r from
// src + r·srcStride to dst + r·dstStride (count ≥ 1; runs must not overlap). One bulk-memory
// memory.copy per run: the rows of a channel slice or concatenation without a JavaScript call each.
const CR = { SRC: 0, DST: 1, COUNT: 2, N: 3, SS: 4, DS: 5 } as const;
const MEMORY_COPY = [0xfc, ...uleb(10), 0x00, 0x00];

function copyRunsFunctionBody(): number[] {
  const code = [
    op.loop, op.void,
    ...get(CR.DST), ...get(CR.SRC), ...get(CR.N), ...MEMORY_COPY,
    ...addLocal(CR.SRC, CR.SS), ...addLocal(CR.DST, CR.DS),
    ...decrement(CR.COUNT), op.brIf, 0,
    op.end,
    op.end,
  ];
  return encodeBody(0, 0, code);
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

const name = (s: string) => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];

/** The module's functions: export name, i32 parameter count, body (in export order). */
const FUNCTIONS: readonly { name: string; params: number; body: () => number[] }[] = [
  { name: 'tapReduce', params: 10, body: functionBody },
  { name: 'tapOuter', params: 11, body: () => outerFunctionBody(false) },
  { name: 'tapOuterStrided', params: 13, body: () => outerFunctionBody(true) },
  { name: 'channelAffine', params: 11, body: affineFunctionBody },
  { name: 'reluMask', params: 4, body: reluMaskFunctionBody },
  { name: 'sgdMomentum', params: 10, body: sgdMomentumFunctionBody },
  { name: 'maxPoolGrad', params: 12, body: maxPoolGradFunctionBody },
  { name: 'copyRuns', params: 6, body: copyRunsFunctionBody },
];

function moduleBytes(): Uint8Array {
  // One type per function (i32 parameters, no result), function i of type i.
  const fnType = (params: number) => [0x60, params, ...Array<number>(params).fill(I32), 0];
  const type = section(1, [FUNCTIONS.length, ...FUNCTIONS.flatMap((f) => fnType(f.params))]);
  // Imports env.memory: a memory with at least 0 pages and no maximum (the backend's heap).
  const imports = section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0x00]);
  const funcs = section(3, [FUNCTIONS.length, ...FUNCTIONS.map((_, i) => i)]);
  const exports = section(7, [FUNCTIONS.length, ...FUNCTIONS.flatMap((f, i) => [...name(f.name), 0x00, i])]);
  const code = section(10, [FUNCTIONS.length, ...FUNCTIONS.flatMap((f) => f.body())]);
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

export type TapOuter = (
  x: number,
  dy: number,
  acc: number,
  rows: number,
  xRowStride: number,
  dyRowStride: number,
  cols: number,
  xColStride: number,
  dyColStride: number,
  inChannels: number,
  coBytes: number,
) => void;

export type TapOuterStrided = (
  x: number,
  dy: number,
  acc: number,
  rows: number,
  xRowStride: number,
  dyRowStride: number,
  cols: number,
  xColStride: number,
  dyColStride: number,
  count: number,
  oBytes: number,
  xChanStride: number,
  accRowStride: number,
) => void;

export type ChannelAffine = (
  a: number,
  b: number,
  out: number,
  s1: number,
  s2: number,
  t: number,
  pixels: number,
  cBytes: number,
  aStride: number,
  bStride: number,
  outStride: number,
) => void;

export type ReluMask = (x: number, dy: number, out: number, nBytes: number) => void;
export type MaxPoolGrad = (
  x: number,
  y: number,
  dy: number,
  dx: number,
  pixels: number,
  cBytes: number,
  xPixel: number,
  oPixel: number,
  tapRows: number,
  tapCols: number,
  xRow: number,
  xCol: number,
) => void;
export type CopyRuns = (src: number, dst: number, count: number, nBytes: number, srcStride: number, dstStride: number) => void;
export type SgdMomentum = (w: number, g: number, v: number, wOut: number, vOut: number, nBytes: number, lrBits: number, muBits: number, wdBits: number, flags: number) => void;

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
const instances = new WeakMap<WasmMemory, SimdKernels>();

/** The module's functions bound to one memory. */
export interface SimdKernels {
  tapReduce: TapReduce;
  tapOuter: TapOuter;
  tapOuterStrided: TapOuterStrided;
  channelAffine: ChannelAffine;
  reluMask: ReluMask;
  sgdMomentum: SgdMomentum;
  maxPoolGrad: MaxPoolGrad;
  copyRuns: CopyRuns;
}

/**
 * The SIMD functions bound to `memory`, or null where they cannot run (no WebAssembly SIMD, or a
 * shared memory — the threaded backend — which would need a matching import declaration).
 */
export function simdKernelsFor(memory: WasmMemory): SimdKernels | null {
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
  const kernels: SimdKernels = {
    tapReduce: instance.exports.tapReduce as TapReduce,
    tapOuter: instance.exports.tapOuter as TapOuter,
    tapOuterStrided: instance.exports.tapOuterStrided as TapOuterStrided,
    channelAffine: instance.exports.channelAffine as ChannelAffine,
    reluMask: instance.exports.reluMask as ReluMask,
    sgdMomentum: instance.exports.sgdMomentum as SgdMomentum,
    maxPoolGrad: instance.exports.maxPoolGrad as MaxPoolGrad,
    copyRuns: instance.exports.copyRuns as CopyRuns,
  };
  instances.set(memory, kernels);
  return kernels;
}

/** `tapReduce` bound to `memory`, or null where it cannot run (see `simdKernelsFor`). */
export function tapReduceFor(memory: WasmMemory): TapReduce | null {
  return simdKernelsFor(memory)?.tapReduce ?? null;
}

/** Exposed for tests: the module's bytes (to check they validate). */
export const simdReduceModuleBytes = moduleBytes;
