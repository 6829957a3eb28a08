import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@autodeeplab/core';
import { BUILTIN_OPS, countOpParameters, createOp, getOpMeta } from './index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** Parameter counts by hand (the structures of paper §3.1; BN γ, β counted when affine). */
function byHand(name: string, c: number, stride: 1 | 2, affine: boolean): number {
  const bn = affine ? 2 * c : 0;
  switch (name) {
    case 'none':
    case 'max_pool_3x3':
    case 'avg_pool_3x3':
      return 0; // pooling's BN in the search is non-affine: no parameters
    case 'skip_connect':
      // identity; at stride 2 FactorizedReduce: 1×1 convs C → floor(C/2) and C → ceil(C/2), + BN
      return stride === 1 ? 0 : c * Math.floor(c / 2) + c * Math.ceil(c / 2) + bn;
    case 'sep_conv_3x3':
      return 2 * (9 * c + c * c + bn); // twice: depthwise 3×3 (9C) + pointwise (C²) + BN
    case 'sep_conv_5x5':
      return 2 * (25 * c + c * c + bn);
    case 'dil_conv_3x3':
      return 9 * c * c + bn; // regular 3×3 conv C → C
    case 'dil_conv_5x5':
      return 25 * c * c + bn;
    default:
      throw new Error(name);
  }
}

describe('parameter counts', () => {
  it.each(BUILTIN_OPS.flatMap((name) => [2, 5, 8, 40].map((c) => [name, c] as const)))('%s at C = %i', (name, c) => {
    for (const stride of [1, 2] as const) {
      for (const affine of [false, true]) {
        const expected = byHand(name, c, stride, affine);
        const op = createOp(name, { name: `count/${name}`, channels: c, stride, affine, rng: new Rng(0) });
        expect(op.parameterCount(), `built, stride ${stride}, affine ${affine}`).toBe(expected);
        op.dispose();
        expect(countOpParameters(name, { channels: c, stride, affine }), `countOpParameters, stride ${stride}, affine ${affine}`).toBe(expected);
        expect(getOpMeta(name).parameterCount).toBeTypeOf('function');
      }
    }
  });

  it('sep_conv_3x3 at C = 8 in the search: 2·(72 + 64) = 272', () => {
    expect(countOpParameters('sep_conv_3x3', { channels: 8, stride: 1, affine: false })).toBe(272);
  });
});
