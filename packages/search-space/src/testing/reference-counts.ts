// Test helper (not exported): parameter and Multi-Add counts of the supernet written directly from
// the paper's search space (§3) and the README's choices, independent of the package's code.

export interface ReferenceConfig {
  layers: number;
  blocks: number;
  filterMultiplier: number;
  scales: number[];
  numClasses: number;
  /** A missing H^{l−2}: its B edges absent (`drop`, the default) or fed the call's prev (`substitute`). */
  missingPrevPrev?: 'drop' | 'substitute';
}

/** Parameters and conv Multi-Adds of one k×k conv (no bias) per output pixel. */
const conv = (k: number, cin: number, cout: number) => k * k * cin * cout;

/** The 8 built-in ops at channels C, stride 1, non-affine BN: [params, MACs per pixel]. */
function builtinOp(name: string, c: number): number {
  switch (name) {
    case 'sep_conv_3x3':
      return 2 * (9 * c + c * c);
    case 'sep_conv_5x5':
      return 2 * (25 * c + c * c);
    case 'dil_conv_3x3':
      return 9 * c * c;
    case 'dil_conv_5x5':
      return 25 * c * c;
    default:
      return 0; // none, pools (non-affine BN), identity
  }
}

const OPS = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5'];

/**
 * Counts for the default op set. `height`/`width` give Multi-Adds per image (0 when omitted).
 * Node (l, scales[i]) exists for i ≤ l; layer 0 is the stem (s = 4, B·F channels).
 */
export function referenceCounts(cfg: ReferenceConfig, height = 0, width = 0): { parameters: number; multiAdds: number; betaSize: number } {
  const { layers: L, blocks: B, filterMultiplier: F, scales, numClasses } = cfg;
  const n = scales.length;
  const exists = (l: number, i: number) => l >= 0 && i >= 0 && i < n && i <= l;
  const f = (i: number) => (F * scales[i]!) / 4;
  const out = (l: number, i: number) => (l === 0 ? B * F : B * f(i));
  const pix = (i: number) => Math.ceil(height / scales[i]!) * Math.ceil(width / scales[i]!);
  const edges = (B * (B + 3)) / 2; // 2 + 3 + … + (B + 1)
  let beta = 0;
  for (let l = 0; l < L; l++) for (let i = 0; i < n; i++) if (exists(l, i)) beta += 1 + (i + 1 < n ? 1 : 0) + (i > 0 ? 1 : 0);

  const c1 = Math.ceil((B * F) / 2);
  const c2 = B * F;
  let params = edges * OPS.length + beta + conv(3, 3, c1) + 2 * c1 + conv(3, c1, c2) + 2 * c2;
  let macs = Math.ceil(height / 2) * Math.ceil(width / 2) * conv(3, 3, c1) + pix(0) * conv(3, c1, c2);
  for (let l = 1; l <= L; l++) {
    for (let i = 0; i < n; i++) {
      if (!exists(l, i)) continue;
      const opSum = OPS.reduce((s, o) => s + builtinOp(o, f(i)), 0);
      const prevPrev = exists(l - 2, i);
      // Block i reads H^{l−2} on one edge: B edges in all, absent when it is missing and dropped.
      const cellEdges = prevPrev || cfg.missingPrevPrev === 'substitute' ? edges : edges - B;
      params += cellEdges * opSum;
      const sources = [i - 1, i, i + 1].filter((j) => exists(l - 1, j));
      for (const j of sources) {
        const k = j === i - 1 ? 3 : 1; // from s/2: stride-2 3×3 conv; from s, 2s: 1×1
        params += conv(k, out(l - 1, j), f(i));
        macs += pix(i) * conv(k, out(l - 1, j), f(i));
      }
      if (prevPrev) {
        params += conv(1, out(l - 2, i), f(i));
        macs += pix(i) * conv(1, out(l - 2, i), f(i));
      }
      // Fused forward: prev_prev edges (B of them) once per node, the others once per call.
      const runs = prevPrev ? B + sources.length * (edges - B) : sources.length * cellEdges;
      macs += runs * pix(i) * opSum;
    }
  }
  for (let i = 0; i < n; i++) {
    if (!exists(L, i)) continue;
    const c = B * f(i);
    // SearchASPP: 1×1, 3×3 atrous (conv-BN-ReLU, c filters), image pooling (1×1 conv with bias), 1×1 to classes with bias.
    params += conv(1, c, c) + 2 * c + conv(3, c, c) + 2 * c + conv(1, c, c) + c + 3 * c * numClasses + numClasses;
    macs += pix(i) * (conv(1, c, c) + conv(3, c, c) + 3 * c * numClasses) + conv(1, c, c);
  }
  return { parameters: params, multiAdds: macs, betaSize: beta };
}
