export type { ConvolutionSpec, StackInput, StackOutput, StackedApply, StackedForm } from './types.js';
export { Activation } from './activation.js';
export { applyEach, applyStacked, getStackedForm, registerStackedForm, unregisterStackedForm } from './table.js';
export { blockDiagonal, concatSliceGrad, convolution, stackKernels, stackedPointwiseOptions } from './kernels.js';
export { stackDilConv, stackIdentity, stackPool, stackSepConv } from './builtins.js';
