/**
 * How often each path of the kernels that have several ran: diagnostics, and how tests check that a
 * shape takes the path it should. Counts only grow; compare before and after a call.
 */
export interface KernelPathCounts {
  /** DepthwiseConv2dNativeBackpropFilter on wasm: SIMD reduction or XNNPACK formulation. */
  depthwiseFilterGrad: { simd: number; xnnpack: number };
  /** Conv2DBackpropFilter on wasm. */
  convFilterGrad: { simd: number; xnnpack: number };
  /** Conv2DBackpropInput on wasm. */
  convInputGrad: { simd: number; xnnpack: number };
  /** Conv2D on wasm: our pointwise SIMD path or the backend's own kernel. */
  pointwiseConv: { simd: number; backend: number };
}

export const kernelPathCounts: KernelPathCounts = {
  depthwiseFilterGrad: { simd: 0, xnnpack: 0 },
  convFilterGrad: { simd: 0, xnnpack: 0 },
  convInputGrad: { simd: 0, xnnpack: 0 },
  pointwiseConv: { simd: 0, backend: 0 },
};
