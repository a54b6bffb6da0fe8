/**
 * Console login throttling, kept in the database (`srv_login_throttle`, migration 0007) so that it survives
 * restarts and is shared by every instance on the same database (decision 37).
 *
 * Two keys per attempt: the username (`user:<name>`) and the client address (`addr:<ip>`). Each key has some
 * free failures; after that every failure makes the key's next attempt wait 2^k seconds (k = failures beyond the
 * free ones, starting at 0), up to a cap. Nothing is ever locked for longer than the cap, so an attacker cannot
 * lock the real operator out for long, and an attempt refused because of a wait is not counted (it cannot extend
 * the wait). A key is forgotten when it has been quiet for {@link QUIET_RESET_MS}; rows are only ever deleted one
 * key at a time (a success clears the username key) or when stale — never wholesale.
 *
 * Each attempt is counted *before* the password is checked, in one conditional UPDATE per key (`… where
 * locked_until is null or locked_until <= now`), so a burst of parallel guesses cannot slip through while the
 * first ones are being verified: the attempt that would exceed the free ones finds the key already waiting.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { ServerDB } from '../db.js';
import { nowMs } from './clock.js';
import type { ServiceDeps } from './deps.js';

/** The table of migration 0007, typed here so that the shared table types stay as they are. */
export type LoginThrottleTable = {
  srv_login_throttle: {
    key: string;
    failures: number;
    last_attempt_at: string;
    locked_until: string | null;
  };
};

export interface ThrottlePolicy {
  /** Failures a key may have before its attempts start to wait. */
  free: number;
  /** The longest wait, in ms. */
  capMs: number;
}

/** Per username: 5 failures free, then 1 s, 2 s, 4 s … up to 5 minutes. */
export const USER_POLICY: ThrottlePolicy = { free: 5, capMs: 5 * 60_000 };
/** Per client address (many usernames from one place): 20 failures free, then 1 s, 2 s … up to 15 minutes. */
export const ADDRESS_POLICY: ThrottlePolicy = { free: 20, capMs: 15 * 60_000 };
/** A key without any attempt for this long starts again from zero. */
export const QUIET_RESET_MS = 60 * 60_000;

/** The wait after a key's `failures`-th failure (0 while within the free ones). */
export function waitAfter(failures: number, policy: ThrottlePolicy): number {
  if (failures < policy.free) return 0;
  const k = failures - policy.free;
  return k >= 30 ? policy.capMs : Math.min(policy.capMs, 1000 * 2 ** k);
}

export type LoginAttempt =
  | { allowed: true; keys: readonly string[] }
  | { allowed: false; retryAfterSeconds: number; key: 'user' | 'address' };

export interface LoginThrottle {
  /**
   * Counts an attempt for `username` from `address` (null when unknown: in-process requests). Call it before the
   * password is checked; when refused, do not check the password and answer 429 with `retryAfterSeconds`.
   */
  attempt(username: string, address: string | null): Promise<LoginAttempt>;
  /**
   * After a correct password: the username starts afresh, and the attempt no longer counts against the address
   * (whose earlier failures stay until it is quiet, so one valid login cannot wipe an address's guesses).
   */
  succeeded(username: string, address: string | null): Promise<void>;
  /** The state of one key (tests, diagnostics). */
  peek(key: string): Promise<{ failures: number; lockedUntil: string | null } | null>;
}

/** The throttle key of a username (trimmed, lower-cased, at most 128 characters). */
export function userKey(username: string): string {
  return `user:${username.trim().toLowerCase().slice(0, 128)}`;
}

/** The throttle key of a client address (IPv4-mapped IPv6 addresses count as the IPv4 address). */
export function addressKey(address: string): string {
  return `addr:${address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').toLowerCase()}`;
}

export function createLoginThrottle(deps: Pick<ServiceDeps, 'database' | 'clock'>): LoginThrottle {
  const db = (): Kysely<ServerDB & LoginThrottleTable> => deps.database.db.withTables<LoginThrottleTable>();
  const iso = (ms: number) => new Date(ms).toISOString();

  /** Counts one attempt for `key` unless it is waiting; returns the ms left to wait when it is. */
  async function count(key: string, policy: ThrottlePolicy, now: number): Promise<number> {
    const at = iso(now);
    await db()
      .insertInto('srv_login_throttle')
      .values({ key, failures: 0, last_attempt_at: at, locked_until: null })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    // A key quiet for an hour starts again (only that key).
    await db()
      .updateTable('srv_login_throttle')
      .set({ failures: 0, locked_until: null })
      .where('key', '=', key)
      .where('last_attempt_at', '<', iso(now - QUIET_RESET_MS))
      .execute();
    // The wait that the next attempt will have if this one fails, by the count this one makes: a CASE over the
    // few counts that matter keeps it one statement on both dialects.
    const whens: [number, string][] = [];
    let last = 0;
    for (let n = policy.free; ; n++) {
      const w = waitAfter(n, policy);
      whens.push([n, iso(now + w)]);
      last = n;
      if (w >= policy.capMs) break;
    }
    let lockExpr = sql<string | null>`case`;
    for (const [n, until] of whens.slice(0, -1)) {
      lockExpr = sql<string | null>`${lockExpr} when failures + 1 = ${n} then ${until}`;
    }
    lockExpr = sql<
      string | null
    >`${lockExpr} when failures + 1 >= ${last} then ${iso(now + policy.capMs)} else null end`;
    const res = await db()
      .updateTable('srv_login_throttle')
      .set({
        failures: sql<number>`failures + 1`,
        last_attempt_at: at,
        locked_until: lockExpr,
      })
      .where('key', '=', key)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', at)]))
      .executeTakeFirst();
    if (res.numUpdatedRows > 0n) return 0;
    const row = await db()
      .selectFrom('srv_login_throttle')
      .select('locked_until')
      .where('key', '=', key)
      .executeTakeFirst();
    const until = row?.locked_until ? Date.parse(row.locked_until) : now + 1000;
    return Math.max(1, until - now);
  }

  /** Takes back one counted attempt (it was refused by the other key, or it succeeded). */
  async function uncount(key: string, policy: ThrottlePolicy): Promise<void> {
    await db()
      .updateTable('srv_login_throttle')
      .set({
        failures: sql<number>`case when failures > 0 then failures - 1 else 0 end`,
        locked_until: sql<
          string | null
        >`case when failures - 1 < ${policy.free} then null else locked_until end`,
      })
      .where('key', '=', key)
      .execute();
  }

  let lastPurge = 0;
  async function purgeStale(now: number): Promise<void> {
    if (now - lastPurge < 60_000) return;
    lastPurge = now;
    // Only keys quiet for a day (their count would restart anyway); never the live ones.
    await db()
      .deleteFrom('srv_login_throttle')
      .where('last_attempt_at', '<', iso(now - 24 * 3600_000))
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', iso(now))]))
      .execute();
  }

  return {
    async attempt(username, address) {
      const now = nowMs(deps.clock);
      await purgeStale(now);
      // The address first: while it waits, the username's count is not touched at all.
      const keys: [string, ThrottlePolicy, 'user' | 'address'][] = [];
      if (address) keys.push([addressKey(address), ADDRESS_POLICY, 'address']);
      keys.push([userKey(username), USER_POLICY, 'user']);
      const counted: string[] = [];
      for (const [key, policy, kind] of keys) {
        const wait = await count(key, policy, now);
        if (wait > 0) {
          for (const k of counted) await uncount(k, ADDRESS_POLICY);
          return { allowed: false, retryAfterSeconds: Math.ceil(wait / 1000), key: kind };
        }
        counted.push(key);
      }
      return { allowed: true, keys: counted };
    },
    async succeeded(username, address) {
      await db().deleteFrom('srv_login_throttle').where('key', '=', userKey(username)).execute();
      if (address) await uncount(addressKey(address), ADDRESS_POLICY);
    },
    async peek(key) {
      const row = await db()
        .selectFrom('srv_login_throttle')
        .select(['failures', 'locked_until'])
        .where('key', '=', key)
        .executeTakeFirst();
      return row ? { failures: Number(row.failures), lockedUntil: row.locked_until } : null;
    },
  };
}
