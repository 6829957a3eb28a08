// Node's entry: everything a web page has (browser.ts), and reading and writing genotype files.
export * from './browser.js';
export { readGenotype, writeGenotype, loadGenotype } from './file.js';
