/**
 * The fuzzing of fuzz/targets.ts at a small count inside the normal suite (FUZZ_RUNS, default 300 here), so CI
 * exercises every parser's property; `npm run fuzz` runs 100,000 cases per parser (docs/fuzzing.md).
 */
import { describe, expect, it } from 'vitest';
import { fuzzRuns, fuzzTarget, TARGETS } from '../../../fuzz/targets.js';

describe('fuzz smoke (every parser of outside input: a result or a typed error)', () => {
  const runs = fuzzRuns(300);
  for (const target of TARGETS) {
    it(target.name, async () => {
      const stats = await fuzzTarget(target, runs);
      expect(stats.cases).toBe(runs);
    }, 120_000);
  }
});
