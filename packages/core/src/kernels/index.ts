/**
 * Kernels and gradients TensorFlow.js lacks. Registered once by `initBackend`; safe to call again.
 * (Filled in by the kernels work: wasm backprop kernels and dilated-convolution gradients.)
 */
let registered = false;

export function registerMissingKernels(): void {
  if (registered) return;
  registered = true;
}
