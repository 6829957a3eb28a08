// Node's entry: everything a web page has (browser.ts), and saving and loading directories.
export * from './browser.js';
export * from './io.js';
