/**
 * A full garbage collection, when the runtime lets us have one. A bulk run allocates a lot of short-lived
 * objects per batch (records, SQL, notification bodies); collecting between batches keeps the peak RSS flat
 * (issue 5: < 300 MB for 100,000 lines) for a few milliseconds per call.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Time spent in {@link collectGarbage} (reported in --json timings). */
export const gcStats = { ms: 0, count: 0 };

export const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function')
      return () => {
        const t = performance.now();
        (gc as () => void)();
        gcStats.ms += performance.now() - t;
        gcStats.count++;
      };
  } catch {
    // not available: V8 collects on its own schedule
  }
  return () => {};
})();
