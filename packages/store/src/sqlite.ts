import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  SqliteAdapter,
  SqliteDriver,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type TransactionSettings,
} from 'kysely';

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

/**
 * Kysely's SqliteDriver, with two changes:
 * - read-write transactions start with `BEGIN IMMEDIATE`, so a transaction takes the write lock up front (waiting
 *   up to busy_timeout) instead of failing with SQLITE_BUSY when it first writes after reading, which a
 *   deferred `BEGIN` does when another process wrote in between;
 * - rollback is skipped when SQLite already ended the transaction itself (e.g. after SQLITE_FULL), so the
 *   caller sees the original error rather than "cannot rollback - no transaction is active".
 *
 * Kysely's driver keeps the one connection behind a mutex, so transactions in one process never interleave.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  readonly #sqlite: Sqlite.Database;

  constructor(sqlite: Sqlite.Database) {
    super({ database: sqlite });
    this.#sqlite = sqlite;
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
export function sqliteDialect(sqlite: Sqlite.Database): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: (): Driver => new ImmediateSqliteDriver(sqlite),
    createQueryCompiler: () => new SqliteQueryCompiler(),
    // biome-ignore lint/suspicious/noExplicitAny: Kysely's Dialect interface takes an untyped Kysely.
    createIntrospector: (db: Kysely<any>) => new SqliteIntrospector(db),
  };
}
