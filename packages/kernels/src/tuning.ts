/**
 * The switches that choose between a kernel's paths, for benchmarks and A/B tests. Defaults are
 * what the kernels do unless told otherwise; docs/design/kernels.md has the measurements behind
 * them. Set a field, run, and set it back (it is read on every kernel call).
 */
export interface KernelTuning {
  /**
   * Conv2DBackpropFilter on wasm: `'auto'` takes the SIMD outer products (`tapOuter`) wherever they
   * apply (Co a multiple of 4), as they are faster at every shape; `'never'` forces the XNNPACK
   * formulation.
   */
  convFilterGradSimd: 'auto' | 'never';
  /**
   * Conv2DBackpropInput on wasm: `'auto'` takes the strided SIMD outer products (`tapOuterStrided`)
   * wherever they apply (Ci a multiple of 4); `'never'` forces the XNNPACK formulation.
   */
  convInputGradSimd: 'auto' | 'never';
  /** Conv2D on wasm: `'never'` leaves 1×1 stride-1 convolutions to the backend's own kernel. */
  pointwiseConvSimd: 'auto' | 'never';
  /** Slice, SplitV and Concat on wasm: `'never'` moves every row in JavaScript instead of by `copyRuns`. */
  copyRunsSimd: 'auto' | 'never';
}

/** The defaults of `kernelTuning`. */
export const DEFAULT_KERNEL_TUNING: Readonly<KernelTuning> = Object.freeze({
  convFilterGradSimd: 'auto',
  convInputGradSimd: 'auto',
  pointwiseConvSimd: 'auto',
  copyRunsSimd: 'auto',
});

/** The one tuning object the kernels read (see `KernelTuning`). */
export const kernelTuning: KernelTuning = { ...DEFAULT_KERNEL_TUNING };
