import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    globalSetup: ['test/support/interop-notice.ts', 'test/support/tools-notice.ts', 'test/support/postgres-notice.ts'],
  },
});
