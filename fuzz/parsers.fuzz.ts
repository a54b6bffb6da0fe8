/**
 * `npm run fuzz`: every parser of outside input (fuzz/targets.ts) for FUZZ_RUNS cases (default 100,000), one test
 * per parser, with the cases, results / typed errors, the slowest call and the time printed per parser.
 * FUZZ_SEED replays a run.
 */
import { describe, expect, it } from 'vitest';
import { fuzzRuns, fuzzTarget, genuineNotificationVerifies, TARGETS } from './targets.js';

const runs = fuzzRuns();
const seed = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);

describe(`fuzzing at ${runs} cases per parser`, () => {
  it('the genuine notification of each charset verifies (the generator makes real bodies)', async () => {
    const records = [
      {
        tradeNo: '2026011521001004180000201117',
        amountFen: 100,
        amountText: '1.00',
        code: 'SUCCESS',
        succeeded: true,
      },
    ];
    await genuineNotificationVerifies('utf-8', records);
    await genuineNotificationVerifies('gbk', records);
  });

  for (const target of TARGETS) {
    it(target.name, async () => {
      const started = performance.now();
      const stats = await fuzzTarget(target, runs, seed);
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `fuzz ${target.name}: ${stats.cases} cases in ${seconds.toFixed(1)} s — ${stats.results} results, ${stats.typedErrors} typed errors, slowest call ${stats.slowestMs.toFixed(1)} ms`,
      );
      expect(stats.cases).toBe(runs);
    }, 3_600_000);
  }
});
