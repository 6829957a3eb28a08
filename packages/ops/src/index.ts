// Importing the package registers the 8 built-in candidate operations (builtins.ts) and their
// stacked forms (stacked/builtins.ts).
export * from './registry.js';
export * from './blocks.js';
export * from './builtins.js';
export * from './batch-norm.js';
export * from './stacked/index.js';
