/** @autodeeplab/genotype in a web page (the package's `browser` export): all but reading and writing files. */
export * from './schema.js';
export * from './builtin.js';
export * from './topology.js';
export { parseGenotype, genotypeOps, validateGenotypeOps } from './parse.js';
