/**
 * `npm run fuzz`: the property-based fuzzing of fuzz/*.fuzz.ts (FUZZ_RUNS cases per parser, default 100,000),
 * running the TypeScript sources through the same aliases as the tests, one file at a time (the machine is shared).
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  resolve: base.resolve ?? {},
  test: {
    include: ['fuzz/**/*.fuzz.ts'],
    testTimeout: 3_600_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
