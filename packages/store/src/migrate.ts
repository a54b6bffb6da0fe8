import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, Dialect } from './database.js';
import { withTransaction } from './transaction.js';

/** The table that records applied migrations, shared by all namespaces. */
export const MIGRATIONS_TABLE = 'alirefund_migrations';

/** What a migration is told besides the handle: which dialect it runs on, for the odd dialect-specific DDL. */
export interface MigrationContext {
  readonly dialect: Dialect;
}

/**
 * One schema change. `up` (and `down`) run inside a transaction, so a failure leaves nothing behind (both
 * dialects have transactional DDL; avoid statements that cannot run in a transaction, such as PostgreSQL's
 * `CREATE INDEX CONCURRENTLY`). Names are recorded, so never rename or reorder a shipped migration; add a new
 * one instead.
 */
export interface Migration {
  /** Unique within its namespace, e.g. `0001_trades`. */
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the schema as it was then, not a typed DB.
  up(db: Kysely<any>, ctx: MigrationContext): Promise<void>;
  // biome-ignore lint/suspicious/noExplicitAny: as for up.
  down?(db: Kysely<any>, ctx: MigrationContext): Promise<void>;
}

// Advisory lock keys: pg_advisory_xact_lock(CLASS, key). 0x616c7266 is "alrf".
const LOCK_CLASS_TABLE = 0x616c7266;
const LOCK_CLASS_NAMESPACE = 0x616c7267;

// biome-ignore lint/suspicious/noExplicitAny: the migrations table is not part of any caller's schema.
type AnyTransaction = Transaction<any>;

function validate(namespace: string, migrations: readonly Migration[]): void {
  if (namespace.trim() === '') throw new TypeError('Migration namespace must be a non-empty string');
  const seen = new Set<string>();
  for (const m of migrations) {
    if (typeof m.name !== 'string' || m.name.trim() === '') {
      throw new TypeError(`Migration in namespace "${namespace}" has an empty name`);
    }
    if (seen.has(m.name)) throw new TypeError(`Migration "${namespace}/${m.name}" is listed twice`);
    seen.add(m.name);
  }
}

/** Serialises migrators of one namespace across processes (PostgreSQL; SQLite's BEGIN IMMEDIATE already does). */
async function lockNamespace(trx: AnyTransaction, dialect: Dialect, namespace: string): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`select pg_advisory_xact_lock(${sql.lit(LOCK_CLASS_NAMESPACE)}, hashtext(${namespace}::text))`.execute(
    trx,
  );
}

async function ensureTable(database: Database): Promise<void> {
  await withTransaction(database, async (trx) => {
    // CREATE TABLE IF NOT EXISTS is not safe against a concurrent creator on PostgreSQL (both pass the check,
    // one fails on pg_type's unique index), so creators take a lock first.
    if (database.dialect === 'postgres') {
      await sql`select pg_advisory_xact_lock(${sql.lit(LOCK_CLASS_TABLE)}, 0)`.execute(trx);
    }
    await trx.schema
      .createTable(MIGRATIONS_TABLE)
      .ifNotExists()
      .addColumn('namespace', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('applied_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${MIGRATIONS_TABLE}_pk`, ['namespace', 'name'])
      .execute();
  });
}

async function appliedNames(db: Kysely<unknown> | AnyTransaction, namespace: string): Promise<Set<string>> {
  const rows = await sql<{
    name: string;
  }>`select name from ${sql.table(MIGRATIONS_TABLE)} where namespace = ${namespace}`.execute(db);
  return new Set(rows.rows.map((r) => r.name));
}

function failure(verb: string, namespace: string, name: string, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(`Migration "${namespace}/${name}" failed (${verb}): ${reason}`, { cause });
}

/**
 * Applies, in order, the migrations of `namespace` that are not yet recorded in `alirefund_migrations`
 * (namespace, name, applied_at). Each runs in its own transaction together with its record, so it is applied
 * entirely or not at all. Idempotent: a second run applies nothing. Safe when several processes migrate the same
 * database at once: on PostgreSQL each step holds an advisory lock keyed on the namespace and re-checks the
 * record under it; on SQLite each step is a `BEGIN IMMEDIATE` transaction. Several namespaces (`sandbox`,
 * `server`) can share one database. Records of migrations missing from `migrations` are left alone.
 *
 * A failing migration throws an `Error` naming it (with the original as `cause`); the ones before it stay
 * applied.
 *
 * @example
 * ```ts
 * const { applied } = await migrate(database, 'server', [
 *   { name: '0001_trades', up: (db) => db.schema.createTable('trades').addColumn('trade_no', 'text', (c) => c.primaryKey()).execute() },
 * ]);
 * ```
 */
export async function migrate(
  database: Database,
  namespace: string,
  migrations: readonly Migration[],
): Promise<{ applied: string[] }> {
  validate(namespace, migrations);
  await ensureTable(database);
  const already = await appliedNames(database.db, namespace);
  const applied: string[] = [];
  const ctx: MigrationContext = { dialect: database.dialect };
  for (const migration of migrations) {
    if (already.has(migration.name)) continue;
    const didApply = await withTransaction(database, async (trx) => {
      await lockNamespace(trx, database.dialect, namespace);
      const existing = await trx
        .selectFrom(MIGRATIONS_TABLE)
        .select('name')
        .where('namespace', '=', namespace)
        .where('name', '=', migration.name)
        .executeTakeFirst();
      if (existing) return false; // another process got there first
      try {
        await migration.up(trx, ctx);
      } catch (err) {
        throw failure('up', namespace, migration.name, err);
      }
      await trx
        .insertInto(MIGRATIONS_TABLE)
        .values({ namespace, name: migration.name, applied_at: new Date().toISOString() })
        .execute();
      return true;
    });
    if (didApply) applied.push(migration.name);
  }
  return { applied };
}

/**
 * The migrations of `namespace` not yet applied, in order (empty when the database is up to date). Readiness
 * checks use it: an instance whose code expects tables that are not there yet must not take traffic.
 */
export async function pendingMigrations(
  database: Database,
  namespace: string,
  migrations: readonly Migration[],
): Promise<string[]> {
  // No CREATE here (readiness probes call this every few seconds): without the table, this throws.
  const already = await appliedNames(database.db, namespace);
  return migrations.filter((m) => !already.has(m.name)).map((m) => m.name);
}

/**
 * Reverts the last `steps` (default 1) applied migrations of `namespace`, newest first (in `migrations` order),
 * each with its `down` in a transaction that also deletes its record. Throws before changing anything if one of
 * them has no `down`. Meant for development and tests; production rolls forward.
 */
export async function revertMigrations(
  database: Database,
  namespace: string,
  migrations: readonly Migration[],
  opts: { steps?: number } = {},
): Promise<{ reverted: string[] }> {
  validate(namespace, migrations);
  const steps = opts.steps ?? 1;
  if (!Number.isInteger(steps) || steps < 0) {
    throw new TypeError(`steps must be a non-negative integer, got ${steps}`);
  }
  await ensureTable(database);
  const already = await appliedNames(database.db, namespace);
  const targets = migrations
    .filter((m) => already.has(m.name))
    .reverse()
    .slice(0, steps);
  const missingDown = targets.find((m) => m.down === undefined);
  if (missingDown) throw new Error(`Migration "${namespace}/${missingDown.name}" has no down()`);
  const reverted: string[] = [];
  const ctx: MigrationContext = { dialect: database.dialect };
  for (const migration of targets) {
    const didRevert = await withTransaction(database, async (trx) => {
      await lockNamespace(trx, database.dialect, namespace);
      const result = await trx
        .deleteFrom(MIGRATIONS_TABLE)
        .where('namespace', '=', namespace)
        .where('name', '=', migration.name)
        .executeTakeFirst();
      if (result.numDeletedRows === 0n) return false;
      try {
        await migration.down?.(trx, ctx);
      } catch (err) {
        throw failure('down', namespace, migration.name, err);
      }
      return true;
    });
    if (didRevert) reverted.push(migration.name);
  }
  return { reverted };
}
