import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string, file = 'index.ts'): string => fileURLToPath(new URL(`./packages/${pkg}/src/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests exercise the TypeScript sources; the CLI tests spawn the built binary.
    alias: {
      '@airlock/core': src('core'),
      '@airlock/server': src('server'),
      // SDK subpaths come before '@airlock/sdk', which would otherwise match them as a prefix.
      '@airlock/sdk/api': src('sdk', 'api/index.ts'),
      '@airlock/sdk/ai': src('sdk', 'adapters/ai-sdk.ts'),
      '@airlock/sdk/openai-agents': src('sdk', 'adapters/openai-agents.ts'),
      '@airlock/sdk/langchain': src('sdk', 'adapters/langchain.ts'),
      '@airlock/sdk': src('sdk'),
      '@airlock/mcp-gateway': src('mcp-gateway'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'examples/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Every server the tests start checks its JSON answers against the documented schemas (app.ts).
    env: { AIRLOCK_CHECK_RESPONSES: '1' },
  },
});
