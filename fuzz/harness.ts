/**
 * The fuzzing harness: what a target is, how many cases run (FUZZ_RUNS) and how long one call may take
 * (FUZZ_MAX_MS), and the check every input must pass (a result or a typed error with a message, in time).
 */
import { type AlipayConfig, createConfig } from '@alirefund/protocol';
import fc from 'fast-check';
export const PARTNER = '2088101122136241';
export const KEY = '760bdzec6y9goq7ctyx96ezkz78287de';
export const CONFIG: AlipayConfig = createConfig({
  partner: PARTNER,
  key: KEY,
  gateway: 'http://127.0.0.1:9/gateway.do',
});

/** One parser under fuzzing. */
export interface FuzzTarget<T = unknown> {
  name: string;
  arbitrary: fc.Arbitrary<T>;
  /** Runs the parser; returning normally is a pass. Throwing is a pass only for the typed errors listed. */
  run(input: T): unknown;
  /** `name`s of the errors the parser is documented to throw (empty: it never throws). */
  typedErrors: readonly string[];
}

/** How many cases each target runs (FUZZ_RUNS, default 100,000). */
export function fuzzRuns(fallback = 100_000): number {
  const n = Number(process.env['FUZZ_RUNS'] ?? fallback);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** The slowest a single call may be before it counts as a hang (FUZZ_MAX_MS, default 2000). */
export function maxCallMs(): number {
  const n = Number(process.env['FUZZ_MAX_MS'] ?? 2000);
  return Number.isFinite(n) && n > 0 ? n : 2000;
}

/** What one target's run came to. */
export interface FuzzStats {
  cases: number;
  results: number;
  typedErrors: number;
  slowestMs: number;
}

/**
 * Checks the property on one input: returns 'result' or 'typed-error', throws (failing the property) on an
 * untyped exception, an error without a message, or a call slower than {@link maxCallMs}.
 */
export async function checkOne<T>(target: FuzzTarget<T>, input: T, stats: FuzzStats): Promise<void> {
  const started = performance.now();
  let outcome: 'result' | 'typed-error';
  try {
    await target.run(input);
    outcome = 'result';
  } catch (err) {
    const name = err instanceof Error ? err.name : typeof err;
    const message = err instanceof Error ? err.message : '';
    if (!target.typedErrors.includes(name) || message.trim() === '') {
      const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
      throw new Error(`${target.name}: untyped exception ${name}: ${detail}`);
    }
    outcome = 'typed-error';
  }
  const ms = performance.now() - started;
  if (ms > stats.slowestMs) stats.slowestMs = ms;
  if (ms > maxCallMs()) throw new Error(`${target.name}: one call took ${ms.toFixed(0)} ms (a hang?)`);
  stats.cases++;
  if (outcome === 'result') stats.results++;
  else stats.typedErrors++;
}

/** Runs one target for `runs` cases; returns the stats, throws fast-check's report on a failure. */
export async function fuzzTarget(target: FuzzTarget<never>, runs: number, seed?: number): Promise<FuzzStats> {
  const stats: FuzzStats = { cases: 0, results: 0, typedErrors: 0, slowestMs: 0 };
  await fc.assert(
    fc.asyncProperty(target.arbitrary as fc.Arbitrary<unknown>, async (input) => {
      await checkOne(target as FuzzTarget<unknown>, input, stats);
      // let timers run now and then: a long run of microtasks starves the test runner's own messages
      if (stats.cases % 500 === 0) await new Promise((r) => setImmediate(r));
    }),
    { numRuns: runs, ...(seed === undefined ? {} : { seed }) },
  );
  return stats;
}
