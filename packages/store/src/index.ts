/**
 * `@alirefund/store`: database plumbing shared by the sandbox and the server.
 *
 * - {@link openDatabase}: a Kysely handle for a SQLite file, `:memory:` or `postgres://…`;
 * - {@link migrate} / {@link revertMigrations}: namespaced, idempotent, concurrency-safe migrations;
 * - {@link withTransaction}: transactions retried on serialization failures, deadlocks and SQLITE_BUSY;
 * - {@link isUniqueViolation}: "this row already exists" on both dialects, for exactly-once inserts.
 *
 * The test harness lives in `@alirefund/store/testing`.
 *
 * @module
 */
export { type CheckpointStats, checkpointerRunning, checkpointStats } from './checkpointer.js';
export {
  type Database,
  type Dialect,
  type OpenDatabaseOptions,
  openDatabase,
  type PoolStats,
} from './database.js';
export type { SyncSqlite } from './sync-sqlite.js';
export {
  MIGRATIONS_TABLE,
  type Migration,
  type MigrationContext,
  migrate,
  pendingMigrations,
  revertMigrations,
} from './migrate.js';
export {
  isRetryableTransactionError,
  isUniqueViolation,
  type TransactionOptions,
  withTransaction,
} from './transaction.js';
