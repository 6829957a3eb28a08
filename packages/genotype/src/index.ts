export * from './schema.js';
export * from './builtin.js';
export * from './topology.js';
export { parseGenotype, genotypeOps, validateGenotypeOps } from './parse.js';
export { readGenotype, writeGenotype, loadGenotype } from './file.js';
