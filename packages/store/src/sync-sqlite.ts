// Its own module (no better-sqlite3 import), so that `Database`'s declarations need no better-sqlite3 types.

/**
 * The one SQLite connection, used synchronously (see `Database.withSyncSqlite`): statements run one after the
 * other with no await between them, on the same prepared statements as the Kysely driver.
 */
export interface SyncSqlite {
  /** Runs one statement (`?` placeholders): its rows when it returns rows, else how many rows it changed. */
  query<R = Record<string, unknown>>(
    sql: string,
    parameters: readonly unknown[],
  ): { rows: R[]; changes: number };
  /**
   * Runs `fn` in a transaction, `BEGIN IMMEDIATE … COMMIT` (a savepoint when already in one): when `fn` throws,
   * its changes are rolled back and the error rethrown.
   */
  transaction<T>(fn: () => T): T;
}
