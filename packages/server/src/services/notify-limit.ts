/**
 * What unauthenticated callers may cost us: a token bucket per source address for *rejected* deliveries. Every
 * delivery is still checked in full (a genuine notification is never refused or slowed because of its address);
 * once an address has spent its bucket, its further rejections are answered `fail` (429) without a row, without
 * the sign-failure diagnosis, and counted; the next row stored for that address says how many were left out.
 */

export interface RejectionLimiter {
  /** Whether a rejection from `addr` would be stored now (does not spend a token). */
  allows(addr: string | null | undefined): boolean;
  /**
   * Spends a token for a rejection from `addr`: `stored` when it may be recorded (and how many were left out
   * before it), otherwise it is counted as left out.
   */
  take(addr: string | null | undefined): { stored: true; suppressed: number } | { stored: false };
}

export interface RejectionLimits {
  /** Rejections stored per address in a burst (default 20). */
  burst?: number;
  /** Tokens regained per second (default 1). */
  perSecond?: number;
  /** Addresses tracked at most; the fullest buckets are forgotten first (default 10,000). */
  maxAddresses?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
  suppressed: number;
}

export function createRejectionLimiter(limits: RejectionLimits = {}): RejectionLimiter {
  const burst = limits.burst ?? 20;
  const perMs = (limits.perSecond ?? 1) / 1000;
  const maxAddresses = limits.maxAddresses ?? 10_000;
  const now = limits.now ?? Date.now;
  const buckets = new Map<string, Bucket>();

  function bucketOf(addr: string): Bucket {
    const t = now();
    let b = buckets.get(addr);
    if (b === undefined) {
      if (buckets.size >= maxAddresses) {
        // Forget refilled buckets (they hold nothing); if none, the oldest entry.
        for (const [k, v] of buckets) {
          if (v.suppressed === 0 && v.tokens + (t - v.at) * perMs >= burst) buckets.delete(k);
        }
        if (buckets.size >= maxAddresses) buckets.delete(buckets.keys().next().value as string);
      }
      b = { tokens: burst, at: t, suppressed: 0 };
      buckets.set(addr, b);
      return b;
    }
    b.tokens = Math.min(burst, b.tokens + (t - b.at) * perMs);
    b.at = t;
    return b;
  }

  return {
    allows(addr) {
      if (addr == null) return true;
      return bucketOf(addr).tokens >= 1;
    },
    take(addr) {
      // In-process requests (no socket) have no address: nothing to key a limit on.
      if (addr == null) return { stored: true, suppressed: 0 };
      const b = bucketOf(addr);
      if (b.tokens < 1) {
        b.suppressed++;
        return { stored: false };
      }
      b.tokens -= 1;
      const suppressed = b.suppressed;
      b.suppressed = 0;
      return { stored: true, suppressed };
    },
  };
}
