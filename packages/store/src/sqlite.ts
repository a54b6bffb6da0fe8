import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  SqliteAdapter,
  SqliteDriver,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type TransactionSettings,
} from 'kysely';
import type { SyncSqlite } from './sync-sqlite.js';

/** Pragmas set on every SQLite connection we open. */
export const SQLITE_PRAGMAS = [
  'journal_mode = WAL',
  'synchronous = NORMAL',
  'foreign_keys = ON',
  'busy_timeout = 5000',
] as const;

/**
 * Opens a better-sqlite3 handle (creating the parent directory of a file) and applies {@link SQLITE_PRAGMAS}.
 * `path === undefined` means in-memory.
 */
export function openSqlite(path: string | undefined): Sqlite.Database {
  if (path !== undefined) mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new Sqlite(path ?? ':memory:');
  try {
    for (const pragma of SQLITE_PRAGMAS) sqlite.pragma(pragma);
  } catch (err) {
    sqlite.close();
    throw err;
  }
  return sqlite;
}

/** How many prepared statements a connection keeps (least recently used ones are dropped first). */
export const STATEMENT_CACHE_SIZE = 256;
/** Statements longer than this are prepared each time instead of cached (bulk inserts whose shape rarely repeats). */
const MAX_CACHED_SQL_LENGTH = 64 * 1024;

/**
 * The one connection over a better-sqlite3 handle, like Kysely's own but keeping prepared statements: Kysely's
 * driver prepares every statement again on every execution, which was ~15% of the CPU of a notification. A
 * statement is keyed by its SQL text; SQLite re-prepares it by itself after a schema change. Streaming queries
 * get a statement of their own (an iterating statement cannot be run by anyone else until it is done).
 */
export class CachingSqliteConnection implements DatabaseConnection, SyncSqlite {
  readonly #sqlite: Sqlite.Database;
  readonly #statements = new Map<string, Sqlite.Statement>();

  constructor(sqlite: Sqlite.Database) {
    this.#sqlite = sqlite;
  }

  #prepare(sqlText: string): Sqlite.Statement {
    const cached = this.#statements.get(sqlText);
    if (cached !== undefined) {
      // Move to the back: the Map's insertion order is the eviction order.
      this.#statements.delete(sqlText);
      this.#statements.set(sqlText, cached);
      return cached;
    }
    const stmt = this.#sqlite.prepare(sqlText);
    if (sqlText.length <= MAX_CACHED_SQL_LENGTH) {
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.#statements.keys().next().value;
        if (oldest !== undefined) this.#statements.delete(oldest);
      }
      this.#statements.set(sqlText, stmt);
    }
    return stmt;
  }

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const stmt = this.#prepare(compiledQuery.sql);
    const parameters = compiledQuery.parameters as unknown[];
    if (stmt.reader) return Promise.resolve({ rows: stmt.all(parameters) as R[] });
    const { changes, lastInsertRowid } = stmt.run(parameters);
    return Promise.resolve({ numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] });
  }

  /** {@link SyncSqlite.query}: the same prepared statements, run synchronously. */
  query<R>(sqlText: string, parameters: readonly unknown[]): { rows: R[]; changes: number } {
    const stmt = this.#prepare(sqlText);
    if (stmt.reader) return { rows: stmt.all(parameters) as R[], changes: 0 };
    return { rows: [], changes: stmt.run(parameters).changes };
  }

  /** {@link SyncSqlite.transaction}. */
  transaction<T>(fn: () => T): T {
    // better-sqlite3 turns a nested call into a savepoint, rolled back alone when `fn` throws.
    const tx = this.#sqlite.transaction(fn);
    return this.#sqlite.inTransaction ? tx() : tx.immediate();
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const stmt = this.#sqlite.prepare(compiledQuery.sql);
    if (!stmt.reader) throw new Error('Sqlite driver only supports streaming of select queries');
    for (const row of stmt.iterate(compiledQuery.parameters as unknown[])) yield { rows: [row as R] };
  }
}

/**
 * Kysely's SqliteDriver, with three changes:
 * - read-write transactions start with `BEGIN IMMEDIATE`, so a transaction takes the write lock up front (waiting
 *   up to busy_timeout) instead of failing with SQLITE_BUSY when it first writes after reading, which a
 *   deferred `BEGIN` does when another process wrote in between;
 * - rollback is skipped when SQLite already ended the transaction itself (e.g. after SQLITE_FULL), so the
 *   caller sees the original error rather than "cannot rollback - no transaction is active";
 * - prepared statements are kept and reused ({@link CachingSqliteConnection}).
 *
 * Kysely's driver keeps the one connection behind a mutex, so transactions in one process never interleave.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  readonly #sqlite: Sqlite.Database;
  readonly #connection: CachingSqliteConnection;

  constructor(sqlite: Sqlite.Database, connection: CachingSqliteConnection) {
    super({ database: sqlite });
    this.#sqlite = sqlite;
    this.#connection = connection;
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    await super.acquireConnection(); // takes the mutex
    return this.#connection;
  }

  override async beginTransaction(
    connection: DatabaseConnection,
    settings?: TransactionSettings,
  ): Promise<void> {
    const begin = settings?.accessMode === 'read only' ? 'begin' : 'begin immediate';
    await connection.executeQuery(CompiledQuery.raw(begin));
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (!this.#sqlite.inTransaction) return;
    await super.rollbackTransaction(connection);
  }
}

/** A Kysely dialect over one better-sqlite3 handle using {@link ImmediateSqliteDriver}. */
export function sqliteDialect(
  sqlite: Sqlite.Database,
  connection = new CachingSqliteConnection(sqlite),
): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: (): Driver => new ImmediateSqliteDriver(sqlite, connection),
    createQueryCompiler: () => new SqliteQueryCompiler(),
    // biome-ignore lint/suspicious/noExplicitAny: Kysely's Dialect interface takes an untyped Kysely.
    createIntrospector: (db: Kysely<any>) => new SqliteIntrospector(db),
  };
}
