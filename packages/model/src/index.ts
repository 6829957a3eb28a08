export * from './config.js';
export * from './plan.js';
export * from './stem.js';
export * from './cell.js';
export * from './network.js';
export * from './count.js';
export * from './io.js';
