import { setTimeout as sleep } from 'node:timers/promises';
import type { Transaction } from 'kysely';
import type { Database } from './database.js';

/** Options for {@link withTransaction}. */
export interface TransactionOptions {
  /** How many times to re-run `fn` after a serialization failure, deadlock or SQLITE_BUSY (default 5). */
  retries?: number;
  /**
   * PostgreSQL isolation level (default: the server's, normally `read committed`). Ignored on SQLite, whose
   * transactions are serializable. Use `serializable` for read-check-write logic such as "refunds on a trade
   * never exceed the amount paid"; conflicts then surface as 40001 and are retried.
   */
  isolationLevel?: 'read committed' | 'repeatable read' | 'serializable';
}

const PG_RETRYABLE = new Set(['40001', '40P01']);

function errorCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

/** Walks `err` and its `cause` chain (a few levels), returning true if `test` holds for one of them. */
function someInChain(err: unknown, test: (code: unknown) => boolean): boolean {
  let current = err;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    if (test(errorCode(current))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * True for errors worth retrying the whole transaction for: PostgreSQL serialization failures (40001) and
 * deadlocks (40P01), and SQLite SQLITE_BUSY (and its extended codes such as SQLITE_BUSY_SNAPSHOT).
 */
export function isRetryableTransactionError(err: unknown): boolean {
  return someInChain(
    err,
    (code) => typeof code === 'string' && (PG_RETRYABLE.has(code) || code.startsWith('SQLITE_BUSY')),
  );
}

/**
 * True if `err` is a unique-constraint violation on either dialect: PostgreSQL 23505, SQLite
 * SQLITE_CONSTRAINT_UNIQUE or SQLITE_CONSTRAINT_PRIMARYKEY. Callers insert under a unique key and treat this as
 * "already done" to get exactly-once effects.
 *
 * Inside a PostgreSQL transaction the failed statement aborts the transaction; catch it outside
 * `withTransaction`, or use `insertInto(…).onConflict((oc) => oc.doNothing())`, which works on both dialects.
 *
 * @example
 * ```ts
 * try {
 *   await database.db.insertInto('notifications').values(row).execute();
 * } catch (err) {
 *   if (!isUniqueViolation(err)) throw err; // a duplicate: already recorded
 * }
 * ```
 */
export function isUniqueViolation(err: unknown): boolean {
  return someInChain(
    err,
    (code) =>
      code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY',
  );
}

/** Backoff before retry `attempt` (1-based): 5 ms doubling, capped at 250 ms, times a jitter in [0.5, 1.5). */
function backoffMs(attempt: number): number {
  return Math.min(250, 5 * 2 ** (attempt - 1)) * (0.5 + Math.random());
}

/**
 * Runs `fn` in a transaction: commits if it resolves, rolls back and rethrows if it throws. On a PostgreSQL
 * serialization failure (40001) or deadlock (40P01), or SQLite SQLITE_BUSY, the transaction is rolled back and
 * `fn` runs again, up to `retries` more times (default 5) with a small jittered backoff. So `fn` must have no
 * effects outside the database that cannot be repeated, and must use `trx`, never `database.db` (on SQLite that
 * waits forever: there is one connection and the transaction holds it).
 *
 * On SQLite, read-write transactions start with `BEGIN IMMEDIATE` and transactions from one process queue up
 * behind each other; they never interleave.
 *
 * @example
 * ```ts
 * const balance = await withTransaction(database, async (trx) => {
 *   const row = await trx.selectFrom('accounts').select('balance').where('id', '=', id).executeTakeFirstOrThrow();
 *   await trx.updateTable('accounts').set({ balance: row.balance - fen }).where('id', '=', id).execute();
 *   return row.balance - fen;
 * }, { isolationLevel: 'serializable' });
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: DB defaults to untyped, as in Database.
export async function withTransaction<T, DB = any>(
  database: Database<DB>,
  fn: (trx: Transaction<DB>) => Promise<T>,
  opts: TransactionOptions = {},
): Promise<T> {
  const retries = opts.retries ?? 5;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new TypeError(`retries must be a non-negative integer, got ${retries}`);
  }
  let builder = database.db.transaction();
  if (opts.isolationLevel !== undefined && database.dialect === 'postgres') {
    builder = builder.setIsolationLevel(opts.isolationLevel);
  }
  for (let attempt = 0; ; attempt++) {
    try {
      return await builder.execute(fn);
    } catch (err) {
      if (attempt >= retries || !isRetryableTransactionError(err)) throw err;
    }
    await sleep(backoffMs(attempt + 1));
  }
}
