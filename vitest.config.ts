import { defineConfig } from 'vitest/config';

// `.ci/run` sets TIDEMARK_VITEST_JSON to collect a machine-readable report beside the usual output.
const json = process.env.TIDEMARK_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    reporters: json ? ['default', ['json', { outputFile: json }]] : ['default'],
  },
});
