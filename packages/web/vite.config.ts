import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { noNodeBuiltins } from './build/no-node-builtins.ts';

const packagesDir = fileURLToPath(new URL('..', import.meta.url));
/** Our code: the page and the @autodeeplab packages it bundles (workspace folders, or installed copies). */
export const isOwnCode = (file: string): boolean => file.startsWith(packagesDir) || file.includes('/node_modules/@autodeeplab/');

export default defineConfig({
  // Relative asset paths: the site works from any folder and any server path.
  base: './',
  plugins: [noNodeBuiltins(isOwnCode)],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // tfjs and its backends are large by nature; a warning about it says nothing new.
    chunkSizeWarningLimit: 4096,
  },
});
