import { isBuiltin } from 'node:module';
import type { Plugin } from 'vite';

/**
 * Fails the build when autodeeplab's own code (the page, or an @autodeeplab package) imports a Node
 * built-in: a bundler would replace it with an empty stub and the page would break only when that
 * code runs. Third-party packages are left to their `browser` fields (tfjs-backend-wasm maps `fs` away).
 */
export function noNodeBuiltins(ownCode: (file: string) => boolean): Plugin {
  return {
    name: 'autodeeplab:no-node-builtins',
    enforce: 'pre',
    resolveId(source, importer) {
      if (importer && isBuiltin(source) && ownCode(importer)) {
        this.error(`${importer} imports the Node built-in '${source}': the browser build of autodeeplab must not (see the package's browser entry)`);
      }
      return null;
    },
  };
}
