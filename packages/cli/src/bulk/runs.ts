/**
 * The run record of `alirefund refund`, in the merchant database next to the server's tables (namespace
 * `cli_bulk`, tables `blk_*`). A run is identified by the SHA-256 of the file's bytes; its batches are recorded
 * with the range of file items each one carries (items are the file's refund lines in order), so that the same
 * command resumes: batches already created are found, never re-created.
 */
import { type AlirefundServer, OPEN_STATES, type ServerDatabase, type ServerDB } from '@alirefund/server';
import { type Migration, migrate, withTransaction } from '@alirefund/store';
import type { Kysely } from 'kysely';
import { CliError } from '../io.js';

export interface RunsTable {
  run_id: string;
  file: string;
  mode: 'pwd' | 'nopwd';
  batch_size: number;
  item_count: number;
  total_fen: number;
  /** created_by of the run's batches in srv_batches. */
  actor: string;
  created_at: string;
  updated_at: string;
  /** `validated` (no batches yet), `created` (batches persisted), `complete` (every batch has its outcome). */
  state: string;
  /** The process driving the run (`host:pid`), null when none; see {@link claimRun}. */
  owner: string | null;
  /** Epoch ms of the owner's last heartbeat. */
  heartbeat_at: number | null;
}

export interface RunBatchesTable {
  run_id: string;
  /** 0-based position of the batch in the run. */
  idx: number;
  /** Current batch_no (follows a batch re-created under a fresh batch_no after midnight). */
  batch_no: string;
  /** 0-based index of the first file item in the batch; the batch carries items first_item … first_item+item_count-1. */
  first_item: number;
  item_count: number;
  /** File line numbers of the first and last item, for people reading the table. */
  first_line: number;
  last_line: number;
}

export interface BulkDB extends ServerDB {
  blk_runs: RunsTable;
  blk_run_batches: RunBatchesTable;
}

export const BULK_MIGRATIONS: readonly Migration[] = [
  {
    name: '0001_runs',
    async up(db) {
      await db.schema
        .createTable('blk_runs')
        .addColumn('run_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('file', 'text', (c) => c.notNull())
        .addColumn('mode', 'varchar(8)', (c) => c.notNull())
        .addColumn('batch_size', 'integer', (c) => c.notNull())
        .addColumn('item_count', 'integer', (c) => c.notNull())
        .addColumn('total_fen', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'varchar(128)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('blk_run_batches')
        .addColumn('run_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('batch_no', 'varchar(64)', (c) => c.notNull())
        .addColumn('first_item', 'integer', (c) => c.notNull())
        .addColumn('item_count', 'integer', (c) => c.notNull())
        .addColumn('first_line', 'integer', (c) => c.notNull())
        .addColumn('last_line', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('blk_run_batches_pk', ['run_id', 'idx'])
        .execute();
    },
    async down(db) {
      await db.schema.dropTable('blk_run_batches').execute();
      await db.schema.dropTable('blk_runs').execute();
    },
  },
  {
    name: '0002_run_owner',
    async up(db) {
      await db.schema.alterTable('blk_runs').addColumn('owner', 'varchar(128)').execute();
      await db.schema.alterTable('blk_runs').addColumn('heartbeat_at', 'bigint').execute();
    },
  },
];

export type Run = RunsTable;
export type RunBatch = RunBatchesTable;

export function bulkDb(database: ServerDatabase): Kysely<BulkDB> {
  return database.db as unknown as Kysely<BulkDB>;
}

export async function migrateBulk(database: ServerDatabase): Promise<void> {
  await migrate(database, 'cli_bulk', BULK_MIGRATIONS);
}

export async function findRun(database: ServerDatabase, runId: string): Promise<Run | undefined> {
  return bulkDb(database).selectFrom('blk_runs').selectAll().where('run_id', '=', runId).executeTakeFirst();
}

export async function saveRun(database: ServerDatabase, run: Run): Promise<void> {
  await bulkDb(database)
    .insertInto('blk_runs')
    .values(run)
    .onConflict((oc) => oc.column('run_id').doUpdateSet({ updated_at: run.updated_at, state: run.state }))
    .execute();
}

export async function setRunState(
  database: ServerDatabase,
  runId: string,
  state: string,
  at: string,
): Promise<void> {
  await bulkDb(database)
    .updateTable('blk_runs')
    .set({ state, updated_at: at })
    .where('run_id', '=', runId)
    .execute();
}

export async function runBatches(database: ServerDatabase, runId: string): Promise<RunBatch[]> {
  return bulkDb(database)
    .selectFrom('blk_run_batches')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('idx')
    .execute();
}

export async function saveRunBatches(database: ServerDatabase, rows: readonly RunBatch[]): Promise<void> {
  if (rows.length === 0) return;
  await withTransaction(database, async (trx) => {
    const db = trx as unknown as Kysely<BulkDB>;
    for (let i = 0; i < rows.length; i += 100) {
      await db
        .insertInto('blk_run_batches')
        .values(rows.slice(i, i + 100))
        .onConflict((oc) => oc.columns(['run_id', 'idx']).doNothing())
        .execute();
    }
  });
}

export async function updateRunBatchNo(
  database: ServerDatabase,
  runId: string,
  idx: number,
  batchNo: string,
): Promise<void> {
  await bulkDb(database)
    .updateTable('blk_run_batches')
    .set({ batch_no: batchNo })
    .where('run_id', '=', runId)
    .where('idx', '=', idx)
    .execute();
}

/** A heartbeat older than this means the run's owner is gone. */
export const OWNER_STALE_MS = 10_000;

/**
 * Takes the run for this process (one driver per run, so that two commands never send its batches side by side).
 * Succeeds when the run has no owner, when its owner's heartbeat is stale, or when the owner was a process of
 * this host that no longer exists (e.g. killed with kill -9). Returns the previous owner, or throws a message.
 */
export async function claimRun(
  database: ServerDatabase,
  runId: string,
  owner: string,
  now: number,
  alive: (owner: string) => boolean,
): Promise<{ ok: true; previous: string | null } | { ok: false; owner: string; heartbeatAt: number | null }> {
  const db = bulkDb(database);
  const row = await db
    .selectFrom('blk_runs')
    .select(['owner', 'heartbeat_at'])
    .where('run_id', '=', runId)
    .executeTakeFirst();
  const previous = row?.owner ?? null;
  const stale = row?.heartbeat_at == null || now - Number(row.heartbeat_at) > OWNER_STALE_MS;
  if (previous !== null && previous !== owner && !stale && alive(previous))
    return {
      ok: false,
      owner: previous,
      heartbeatAt: row?.heartbeat_at == null ? null : Number(row.heartbeat_at),
    };
  const res = await db
    .updateTable('blk_runs')
    .set({ owner, heartbeat_at: now })
    .where('run_id', '=', runId)
    .where((eb) => (previous === null ? eb('owner', 'is', null) : eb('owner', '=', previous)))
    .executeTakeFirst();
  if (res.numUpdatedRows !== 1n) return { ok: false, owner: 'another process (just now)', heartbeatAt: now };
  return { ok: true, previous };
}

export async function heartbeat(
  database: ServerDatabase,
  runId: string,
  owner: string,
  now: number,
): Promise<void> {
  await bulkDb(database)
    .updateTable('blk_runs')
    .set({ heartbeat_at: now })
    .where('run_id', '=', runId)
    .where('owner', '=', owner)
    .execute();
}

export async function releaseRun(database: ServerDatabase, runId: string, owner: string): Promise<void> {
  await bulkDb(database)
    .updateTable('blk_runs')
    .set({ owner: null, heartbeat_at: null })
    .where('run_id', '=', runId)
    .where('owner', '=', owner)
    .execute();
}

/**
 * `--new-run`: the file's earlier run is set aside so that the same file starts afresh (after fixing what made
 * it fail, e.g. a wrong key answered ILLEGAL_SIGN). Its batches that never left (draft, queued) are cancelled,
 * which frees their trades; a batch still in flight at Alipay refuses (its outcome must be known first). The old
 * run and its batch list stay in the database under `retired-<time>-<id>`. Returns the old run's new id.
 */
export async function retireRun(
  server: AlirefundServer,
  runId: string,
  actor: string,
  now: number,
): Promise<string> {
  const batches = await runBatches(server.database, runId);
  const states = new Map(
    (batches.length === 0
      ? []
      : await server.database.db
          .selectFrom('srv_batches')
          .select(['batch_no', 'state'])
          .where(
            'batch_no',
            'in',
            batches.map((b) => b.batch_no),
          )
          .execute()
    ).map((r) => [r.batch_no, r.state] as const),
  );
  const inFlight = batches.filter((b) => {
    const s = states.get(b.batch_no);
    return s !== undefined && OPEN_STATES.includes(s) && s !== 'draft' && s !== 'queued';
  });
  if (inFlight.length > 0)
    throw new CliError(
      `--new-run: batch ${inFlight[0]!.batch_no} of the earlier run is ${states.get(inFlight[0]!.batch_no)} at Alipay; wait for its result (or \`alirefund reconcile --batch ${inFlight[0]!.batch_no}\`), then run with --new-run again`,
    );
  for (const b of batches) {
    const s = states.get(b.batch_no);
    if (s === 'draft' || s === 'queued') await server.services.refunds.cancel(b.batch_no, actor);
  }
  const retired = `retired-${now}-${runId.slice(0, 40)}`;
  await withTransaction(server.database, async (trx) => {
    const t = trx as unknown as Kysely<BulkDB>;
    await t
      .updateTable('blk_runs')
      .set({ run_id: retired, owner: null })
      .where('run_id', '=', runId)
      .execute();
    await t.updateTable('blk_run_batches').set({ run_id: retired }).where('run_id', '=', runId).execute();
  });
  return retired;
}
