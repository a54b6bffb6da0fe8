import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

export default defineConfig({
  // Tests run the TypeScript sources; the published packages (and the spawned `alirefund` bin) run dist/.
  resolve: {
    alias: [
      { find: /^@alirefund\/protocol$/, replacement: src('protocol/src/index.ts') },
      { find: /^@alirefund\/store$/, replacement: src('store/src/index.ts') },
      { find: /^@alirefund\/store\/testing$/, replacement: src('store/src/testing.ts') },
      { find: /^@alirefund\/sandbox$/, replacement: src('sandbox/src/index.ts') },
      { find: /^@alirefund\/server$/, replacement: src('server/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    // build first: tests that spawn packages/cli/bin/alirefund.js run the compiled CLI
    globalSetup: ['scripts/test-build.ts', 'packages/store/test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
