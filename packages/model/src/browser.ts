/** @autodeeplab/model in a web page (the package's `browser` export): all but saving and loading directories (load from a URL instead). */
export * from './config.js';
export * from './plan.js';
export * from './stem.js';
export * from './cell.js';
export * from './network.js';
export * from './count.js';
export * from './network-file.js';
export * from './load-url.js';
export * from './segmentation.js';
export * from './batch-norm.js';
export * from './drop-path.js';
export * from './resized-atrous.js';
