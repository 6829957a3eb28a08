export * from './registry.js';
export * from './blocks.js';
export * from './builtins.js';
export * from './batch-norm.js';
export * from './stacked.js';

import { registerBuiltinOps } from './builtins.js';

// Importing the package registers the 8 built-in candidate operations.
registerBuiltinOps();
