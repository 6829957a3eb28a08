export * from './schema.js';
export * from './builtin.js';
export * from './topology.js';
export { readGenotype, writeGenotype, loadGenotype, parseGenotype, genotypeOps, validateGenotypeOps } from './file.js';
