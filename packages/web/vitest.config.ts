import { defineConfig } from 'vitest/config';

// Builds run through Vite itself, against the packages' built entries (as the page's build does).
export default defineConfig({
  test: { include: ['build/**/*.test.ts'], environment: 'node', testTimeout: 120_000, pool: 'forks', fileParallelism: false },
});
