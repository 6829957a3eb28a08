/**
 * tfjs's webgpu backend as its own entry of the bundle (prepare.sh): core imports it at run time by
 * name, which a bundler cannot follow, so the bundle's node_modules holds a stand-in package that
 * re-exports this entry, which shares the bundle's one copy of tfjs-core.
 */
// Named: the package is CommonJS, whose names `export *` cannot list in an ES module. Core uses this one.
export { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
