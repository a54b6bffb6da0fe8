/**
 * The current time from the injected clock (`ServiceDeps.clock`), in the two forms the services store and compare.
 */
import type { Clock } from '@alirefund/protocol';

/** The current time as an ISO-8601 UTC string. */
export function nowIso(clock: Clock): string {
  const t = clock();
  return new Date(typeof t === 'number' ? t : t.getTime()).toISOString();
}

/** The current time in epoch milliseconds. */
export function nowMs(clock: Clock): number {
  const t = clock();
  return typeof t === 'number' ? t : t.getTime();
}
