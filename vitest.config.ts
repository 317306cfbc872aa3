import { defineConfig } from 'vitest/config';

// `.ci/run` sets TIDEMARK_VITEST_JSON to collect a machine-readable report beside the usual output.
const json = process.env.TIDEMARK_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The SDK warns that releases after January 2027 need Node 22; the pinned ones run on 20.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // One AWS emulator (MiniStack, installed into .venv/ on first use) for the whole run.
    globalSetup: ['test/support/emulator-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    reporters: json ? ['default', ['json', { outputFile: json }]] : ['default'],
  },
});
