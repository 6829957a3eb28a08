export * from './conv-bn-relu.js';
export * from './search-aspp.js';
export * from './aspp.js';
export * from './decoder.js';
