import { resolve } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { BACKSTOP_WAL_PAGES, registerCheckpoints } from './checkpointer.js';
import { CachingSqliteConnection, openSqlite, sqliteDialect } from './sqlite.js';
import type { SyncSqlite } from './sync-sqlite.js';
import { parseDatabaseUrl, redactUrl } from './url.js';

/** The SQL dialects the store speaks. */
export type Dialect = 'sqlite' | 'postgres';

/**
 * An open database: a Kysely handle plus what it is connected to.
 *
 * Portability rules for callers (both dialects behave the same if you follow them):
 * - money is BIGINT integer fen; BIGINT, COUNT(*) and SUM(bigint) come back as JS numbers on both dialects
 *   (PostgreSQL values beyond `Number.MAX_SAFE_INTEGER` throw instead of losing precision);
 * - booleans are INTEGER columns holding 0 or 1 (SQLite has no boolean type);
 * - times are TEXT columns holding ISO-8601 strings the caller passes in (PostgreSQL would return `Date`s for
 *   timestamp columns, SQLite strings);
 * - on SQLite there is one connection: inside `withTransaction` use the transaction handle, never `db`, or the
 *   query waits for the transaction that is waiting for it.
 */
// biome-ignore lint/suspicious/noExplicitAny: untyped by default, like Kysely<any>; callers pass their schema.
export interface Database<DB = any> {
  /** The Kysely query builder. */
  readonly db: Kysely<DB>;
  /** Which SQL dialect `db` speaks. */
  readonly dialect: Dialect;
  /** The URL it was opened with, password redacted: safe to log. */
  readonly url: string;
  /**
   * Connections in use, idle and waited for: the `pg` pool's counts on PostgreSQL; on SQLite the one
   * connection (never idle, never waited for: better-sqlite3 is synchronous). For metrics.
   */
  poolStats(): PoolStats;
  /**
   * SQLite only (undefined on PostgreSQL): runs `fn` on the one connection, synchronously, once no Kysely query
   * or transaction is using it (it takes the driver's mutex). For hot paths whose statements must run back to
   * back in one transaction without an await between them (the notification apply's group commit).
   */
  readonly withSyncSqlite?: <T>(fn: (sqlite: SyncSqlite) => T) => Promise<T>;
  /** Closes the SQLite handle or ends the PostgreSQL pool. Safe to call twice. */
  close(): Promise<void>;
}

/** See {@link Database.poolStats}. */
export interface PoolStats {
  /** Connections open. */
  total: number;
  /** Open connections not running a query. */
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
  /** The most connections the pool opens. */
  max: number;
}

/** Options for {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Maximum connections in the PostgreSQL pool (default 10). SQLite always uses one connection. */
  poolSize?: number;
  /**
   * SQLite files only: run WAL checkpoints in a background worker thread instead of inside whichever commit
   * crosses the auto-checkpoint threshold (default true; see checkpointer.ts).
   */
  backgroundCheckpoints?: boolean;
}

/**
 * Opens a database.
 *
 * - a file path, `sqlite:PATH` or `file:PATH` (`file:///abs/path` too): a SQLite file via better-sqlite3,
 *   created with its parent directory if missing, with `journal_mode=WAL`, `synchronous=NORMAL`,
 *   `foreign_keys=ON` and `busy_timeout=5000`; WAL checkpoints run in a background worker thread
 *   (`backgroundCheckpoints`, checkpointer.ts);
 * - `:memory:`: an in-memory SQLite database (gone when closed);
 * - `postgres://…` or `postgresql://…`: a `pg` pool. The connection is checked before this resolves, so a wrong
 *   host or password is reported at start-up.
 *
 * Any other scheme throws an `Error` naming the accepted forms. No error message contains the password.
 *
 * @example
 * ```ts
 * const database = await openDatabase<MySchema>(process.env.ALIREFUND_DATABASE_URL ?? './.alirefund/server.db');
 * await migrate(database, 'server', migrations);
 * const rows = await database.db.selectFrom('trades').selectAll().execute();
 * await database.close();
 * ```
 */
export async function openDatabase<DB>(url: string, opts: OpenDatabaseOptions = {}): Promise<Database<DB>> {
  const target = parseDatabaseUrl(url);
  const redacted = redactUrl(url);
  if (target.kind === 'postgres') {
    const { poolSize } = opts;
    if (poolSize !== undefined && (!Number.isInteger(poolSize) || poolSize < 1)) {
      throw new TypeError(`poolSize must be a positive integer, got ${poolSize}`);
    }
    // Loaded only for PostgreSQL: a SQLite process never pays for pg's modules (≈ 3 MB of heap).
    const { createPool } = await import('./postgres.js');
    const pool = createPool(target.connectionString, poolSize);
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    try {
      await sql`select 1`.execute(db);
    } catch (cause) {
      await db.destroy().catch(() => {});
      throw new Error(`Cannot connect to PostgreSQL at ${redacted}: ${describeError(cause)}`, { cause });
    }
    const stats = (): PoolStats => ({
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: pool.options.max ?? 10,
    });
    return handle(db, 'postgres', redacted, stats);
  }
  let sqlite: ReturnType<typeof openSqlite>;
  try {
    sqlite = openSqlite(target.kind === 'sqlite-file' ? target.path : undefined);
  } catch (cause) {
    throw new Error(`Cannot open SQLite database ${redacted}: ${describeError(cause)}`, { cause });
  }
  let stopCheckpoints: (() => Promise<void>) | undefined;
  if (target.kind === 'sqlite-file' && opts.backgroundCheckpoints !== false) {
    sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_WAL_PAGES}`);
    stopCheckpoints = await registerCheckpoints(resolve(target.path));
  }
  const stats = (): PoolStats => ({ total: 1, idle: 0, waiting: 0, max: 1 });
  const connection = new CachingSqliteConnection(sqlite);
  const db = new Kysely<DB>({ dialect: sqliteDialect(sqlite, connection) });
  return {
    ...handle(db, 'sqlite', redacted, stats, stopCheckpoints),
    withSyncSqlite: (fn) => db.connection().execute(async () => fn(connection)),
  };
}

function handle<DB>(
  db: Kysely<DB>,
  dialect: Dialect,
  url: string,
  poolStats: () => PoolStats,
  beforeClose?: () => Promise<void>,
): Database<DB> {
  let closing: Promise<void> | undefined;
  return {
    db,
    dialect,
    url,
    poolStats,
    close() {
      // The checkpointer lets go of the file first, so that this connection is the last one and SQLite
      // checkpoints and removes the WAL as it closes.
      closing ??= (beforeClose?.() ?? Promise.resolve()).then(() => db.destroy());
      return closing;
    },
  };
}

/** A one-line reason for an error, including Node's AggregateError (e.g. "localhost" tried on ::1 and 127.0.0.1). */
function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return [...new Set(err.errors.map(describeError))].join('; ');
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (err.message !== '') return err.message;
    return typeof code === 'string' ? code : err.name;
  }
  return String(err);
}
