/**
 * The server's migrations (namespace `server`). Never edit a shipped migration: add a new one.
 */
import { createHash } from 'node:crypto';
import type { Dialect, Migration } from '@alirefund/store';
import { type CreateTableBuilder, type Kysely, sql } from 'kysely';

/** The migration namespace of the server in `alirefund_migrations`. */
export const MIGRATION_NAMESPACE = 'server';

// biome-ignore lint/suspicious/noExplicitAny: migrations see the schema as it was then.
type AnyDb = Kysely<any>;
// biome-ignore lint/suspicious/noExplicitAny: idem.
type Table = CreateTableBuilder<any, any>;

/** An auto-increment integer primary key on either dialect. */
function withId(table: Table, dialect: Dialect): Table {
  return dialect === 'postgres'
    ? table.addColumn('id', 'bigserial', (c) => c.primaryKey())
    : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

const initial: Migration = {
  name: '0001_initial',
  async up(db: AnyDb, { dialect }) {
    await db.schema
      .createTable('srv_trades')
      .addColumn('trade_no', 'text', (c) => c.primaryKey())
      .addColumn('out_trade_no', 'text')
      .addColumn('partner', 'text', (c) => c.notNull())
      .addColumn('paid_fen', 'bigint', (c) => c.notNull().check(sql`paid_fen > 0`))
      .addColumn('refunded_fen', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`refunded_fen >= 0`))
      .addColumn('refund_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('status', 'text', (c) =>
        c.notNull().check(sql`status in ('paid', 'partially_refunded', 'fully_refunded')`),
      )
      .addColumn('has_royalty', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('royalty_json', 'text')
      .addColumn('subject', 'text')
      .addColumn('buyer', 'text')
      .addColumn('paid_at', 'text')
      .addColumn('open_batch_no', 'text')
      .addColumn('gateway_status', 'text')
      .addColumn('reconcile_note', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('srv_trades_out_trade_no').on('srv_trades').column('out_trade_no').execute();
    await db.schema
      .createIndex('srv_trades_status')
      .on('srv_trades')
      .columns(['status', 'created_at'])
      .execute();
    await db.schema.createIndex('srv_trades_created').on('srv_trades').column('created_at').execute();

    await db.schema
      .createTable('srv_batches')
      .addColumn('batch_no', 'text', (c) => c.primaryKey())
      .addColumn('partner', 'text', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull().check(sql`mode in ('pwd', 'nopwd')`))
      .addColumn('charset', 'text', (c) => c.notNull())
      .addColumn('sign_type', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) =>
        c
          .notNull()
          .check(
            sql`state in ('draft', 'queued', 'submitted', 'accepted', 'finished', 'rejected', 'needs_attention', 'resubmit_manually', 'cancelled')`,
          ),
      )
      .addColumn('refund_date', 'text', (c) => c.notNull())
      .addColumn('detail_data', 'text', (c) => c.notNull())
      .addColumn('record_count', 'integer', (c) => c.notNull())
      .addColumn('total_fen', 'bigint', (c) => c.notNull())
      .addColumn('notify_url', 'text')
      .addColumn('group_id', 'text')
      .addColumn('group_index', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('group_size', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('queued_at', 'text')
      .addColumn('submitted_at', 'text')
      .addColumn('accepted_at', 'text')
      .addColumn('finished_at', 'text')
      .addColumn('rejected_at', 'text')
      .addColumn('attention_at', 'text')
      .addColumn('resolved_at', 'text')
      .addColumn('cancelled_at', 'text')
      .addColumn('gateway_code', 'text')
      .addColumn('gateway_message', 'text')
      .addColumn('success_num', 'integer')
      .addColumn('success_fen', 'bigint')
      .addColumn('applied_at', 'text')
      .addColumn('applied_notify_id', 'text')
      .addColumn('applied_notification_id', 'bigint')
      .addUniqueConstraint('srv_batches_partner_batch_no', ['partner', 'batch_no'])
      .execute();
    await db.schema
      .createIndex('srv_batches_state')
      .on('srv_batches')
      .columns(['partner', 'state', 'created_at'])
      .execute();
    await db.schema.createIndex('srv_batches_created').on('srv_batches').column('created_at').execute();

    await db.schema
      .createTable('srv_batch_records')
      .addColumn('batch_no', 'text', (c) => c.notNull().references('srv_batches.batch_no'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('trade_no', 'text', (c) => c.notNull())
      .addColumn('amount_fen', 'bigint', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('royalty_json', 'text')
      .addColumn('result_code', 'text')
      .addColumn('result_amount_fen', 'bigint')
      .addColumn('succeeded', 'integer')
      .addColumn('result_text', 'text')
      .addColumn('result_parts_json', 'text')
      .addPrimaryKeyConstraint('srv_batch_records_pk', ['batch_no', 'seq'])
      .addUniqueConstraint('srv_batch_records_trade', ['batch_no', 'trade_no'])
      .execute();
    await db.schema
      .createIndex('srv_batch_records_trade_no')
      .on('srv_batch_records')
      .column('trade_no')
      .execute();

    await withId(db.schema.createTable('srv_notifications'), dialect)
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('batch_no', 'text')
      .addColumn('trade_no', 'text')
      .addColumn('notify_id', 'text')
      .addColumn('notify_time', 'text')
      .addColumn('verdict', 'text', (c) =>
        c.notNull().check(sql`verdict in ('accepted', 'duplicate', 'rejected')`),
      )
      .addColumn('reason_code', 'text')
      .addColumn('reason', 'text')
      .addColumn('raw_body', 'text', (c) => c.notNull())
      .addColumn('headers_json', 'text', (c) => c.notNull())
      .addColumn('remote_addr', 'text')
      .addColumn('charset', 'text')
      .addColumn('received_at', 'text', (c) => c.notNull())
      .addColumn('applied_at', 'text')
      .addColumn('response', 'text', (c) => c.notNull())
      .execute();
    // The backstop of exactly-once: at most one accepted batch_refund_notify per batch_no, whatever the code
    // above it does. (The primary guard is the conditional update of srv_batches.applied_at.)
    await sql`create unique index srv_notifications_one_applied on srv_notifications (batch_no) where verdict = 'accepted' and kind = 'batch_refund_notify'`.execute(
      db,
    );
    await db.schema
      .createIndex('srv_notifications_batch')
      .on('srv_notifications')
      .columns(['batch_no', 'id'])
      .execute();
    await db.schema
      .createIndex('srv_notifications_received')
      .on('srv_notifications')
      .column('received_at')
      .execute();
    await db.schema
      .createIndex('srv_notifications_trade')
      .on('srv_notifications')
      .column('trade_no')
      .execute();

    await withId(db.schema.createTable('srv_batch_events'), dialect)
      .addColumn('batch_no', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('state', 'text')
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('data_json', 'text')
      .addColumn('actor', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('srv_batch_events_batch')
      .on('srv_batch_events')
      .columns(['batch_no', 'id'])
      .execute();

    await db.schema
      .createTable('srv_partner_locks')
      .addColumn('partner', 'text', (c) => c.primaryKey())
      .addColumn('batch_no', 'text')
      .addColumn('since', 'text')
      .execute();

    await withId(db.schema.createTable('srv_operators'), dialect)
      .addColumn('username', 'text', (c) => c.notNull().unique())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('disabled_at', 'text')
      .addColumn('last_login_at', 'text')
      .execute();

    await db.schema
      .createTable('srv_sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('operator_id', 'bigint', (c) =>
        c.notNull().references('srv_operators.id').onDelete('cascade'),
      )
      .addColumn('csrf_token', 'text', (c) => c.notNull())
      .addColumn('lang', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .execute();

    await withId(db.schema.createTable('srv_api_tokens'), dialect)
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('prefix', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('last_used_at', 'text')
      .addColumn('revoked_at', 'text')
      .execute();

    await withId(db.schema.createTable('srv_audit_log'), dialect)
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target', 'text')
      .addColumn('details_json', 'text')
      .addColumn('ip', 'text')
      .execute();
    await db.schema.createIndex('srv_audit_log_at').on('srv_audit_log').column('at').execute();
  },
  async down(db: AnyDb) {
    for (const t of [
      'srv_audit_log',
      'srv_api_tokens',
      'srv_sessions',
      'srv_operators',
      'srv_partner_locks',
      'srv_batch_events',
      'srv_notifications',
      'srv_batch_records',
      'srv_batches',
      'srv_trades',
    ]) {
      await db.schema.dropTable(t).ifExists().execute();
    }
  },
};

const indexes: Migration = {
  name: '0002_reservation_index',
  async up(db: AnyDb) {
    // Releasing a batch's reservations (`where open_batch_no = ?`) must not scan every trade.
    await db.schema.createIndex('srv_trades_open_batch').on('srv_trades').column('open_batch_no').execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('srv_trades_open_batch').execute();
  },
};

const reconcileAttempts: Migration = {
  name: '0003_reconcile_attempts',
  async up(db: AnyDb, { dialect }) {
    // One row per refund_fastpay_query asked for a batch that has no applied notification, and what came of it.
    await withId(db.schema.createTable('srv_reconcile_attempts'), dialect)
      .addColumn('batch_no', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('state_before', 'text', (c) => c.notNull())
      .addColumn('state_after', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('gateway_code', 'text')
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('reply', 'text')
      .addColumn('notification_id', 'bigint')
      .execute();
    await db.schema
      .createIndex('srv_reconcile_attempts_batch')
      .on('srv_reconcile_attempts')
      .columns(['batch_no', 'id'])
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('srv_reconcile_attempts').ifExists().execute();
  },
};

const sessionPicks: Migration = {
  name: '0004_session_picks',
  async up(db: AnyDb) {
    // The console's selection of trades per session (picks survive paging and searching); gone with the session.
    await db.schema
      .createTable('srv_session_picks')
      .addColumn('session_id', 'text', (c) => c.notNull().references('srv_sessions.id').onDelete('cascade'))
      .addColumn('trade_no', 'text', (c) => c.notNull())
      .addColumn('picked_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('srv_session_picks_pk', ['session_id', 'trade_no'])
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('srv_session_picks').ifExists().execute();
  },
};

/** The partial index of reserved trades (0005; dropped by 0009, recreated by its down). */
async function createPartialReservationIndex(db: AnyDb): Promise<void> {
  await db.schema
    .createIndex('srv_trades_open_batch')
    .on('srv_trades')
    .column('open_batch_no')
    .where(sql.ref('open_batch_no'), 'is not', null)
    .execute();
}

/** Every server migration, in order. */
const partialReservationIndex: Migration = {
  name: '0005_partial_reservation_index',
  async up(db: AnyDb) {
    // Only reserved trades are indexed. With every free trade in the index under NULL (sorted by rowid), releasing
    // a batch's 50 reservations inserted 50 NULL entries on ~50 scattered index pages: a quarter of the pages a
    // notification apply wrote (docs/benchmarks.md). Lookups are all `open_batch_no = ?` / `is not null`.
    await db.schema.dropIndex('srv_trades_open_batch').execute();
    await createPartialReservationIndex(db);
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('srv_trades_open_batch').execute();
    await db.schema.createIndex('srv_trades_open_batch').on('srv_trades').column('open_batch_no').execute();
  },
};

const loginThrottleTokens: Migration = {
  name: '0007_login_throttle_tokens',
  async up(db: AnyDb) {
    // Console login throttling shared by every instance (decision 37): one row per key (`user:<name>` or
    // `addr:<address>`), the failures counted since the key was last quiet, and until when its next attempt waits.
    await db.schema
      .createTable('srv_login_throttle')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_attempt_at', 'text', (c) => c.notNull())
      .addColumn('locked_until', 'text')
      .execute();
    await db.schema
      .createIndex('srv_login_throttle_last')
      .on('srv_login_throttle')
      .column('last_attempt_at')
      .execute();
    // API tokens may expire; the bootstrap token is told apart from a token someone named "bootstrap".
    await db.schema.alterTable('srv_api_tokens').addColumn('expires_at', 'text').execute();
    await db.schema
      .alterTable('srv_api_tokens')
      .addColumn('bootstrap', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db
      .updateTable('srv_api_tokens')
      .set({ bootstrap: 1 })
      .where('name', '=', 'bootstrap')
      .where('created_by', '=', 'system')
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('srv_api_tokens').dropColumn('bootstrap').execute();
    await db.schema.alterTable('srv_api_tokens').dropColumn('expires_at').execute();
    await db.schema.dropTable('srv_login_throttle').ifExists().execute();
  },
};

const rolesApproval: Migration = {
  name: '0008_roles_approval',
  async up(db: AnyDb) {
    // Roles (auth/roles.ts). Every operator who existed before roles keeps every right they had: admin.
    await db.schema
      .alterTable('srv_operators')
      .addColumn('role', 'text', (c) =>
        c.notNull().defaultTo('admin').check(sql`role in ('admin', 'approver', 'operator', 'viewer')`),
      )
      .execute();
    // Existing API tokens: operator, which is everything the API allowed before (trades, refunds, queue,
    // cancel, reads) but approving a batch (docs/decisions.md).
    await db.schema
      .alterTable('srv_api_tokens')
      .addColumn('scope', 'text', (c) =>
        c.notNull().defaultTo('operator').check(sql`scope in ('admin', 'approver', 'operator', 'viewer')`),
      )
      .execute();
    // The two-person rule. The CHECK on srv_batches.state (0001) cannot be altered on SQLite without rebuilding
    // the table, so a batch awaiting approval is stored as a draft with approval_status 'pending' and shown as
    // `awaiting_approval` (services/batch-views.ts). A rejected batch is cancelled with approval_status
    // 'rejected'. created_owner: the operator behind the API token that prepared the batch, if any.
    await db.schema
      .alterTable('srv_batches')
      .addColumn('approval_status', 'text', (c) =>
        c.check(sql`approval_status in ('pending', 'approved', 'rejected')`),
      )
      .execute();
    for (const column of ['approval_by', 'approval_at', 'approval_reason', 'created_owner']) {
      await db.schema.alterTable('srv_batches').addColumn(column, 'text').execute();
    }
    await db.schema
      .createIndex('srv_batches_approval')
      .on('srv_batches')
      .columns(['approval_status', 'created_at'])
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('srv_batches_approval').execute();
    for (const column of [
      'created_owner',
      'approval_reason',
      'approval_at',
      'approval_by',
      'approval_status',
    ]) {
      await db.schema.alterTable('srv_batches').dropColumn(column).execute();
    }
    await db.schema.alterTable('srv_api_tokens').dropColumn('scope').execute();
    await db.schema.alterTable('srv_operators').dropColumn('role').execute();
  },
};

const rejectedBodyDigest: Migration = {
  name: '0006_rejected_body_digest',
  async up(db: AnyDb) {
    // A rejected delivery was never authenticated: keep its first 4 KB, its length and its SHA-256, not the
    // whole body (issue 11: 25 forged 2 MB posts had grown the database by 100 MB). Rows already stored are cut.
    await db.schema.alterTable('srv_notifications').addColumn('body_length', 'bigint').execute();
    await db.schema.alterTable('srv_notifications').addColumn('body_sha256', 'text').execute();
    for (;;) {
      const rows = await db
        .selectFrom('srv_notifications')
        .select(['id', 'raw_body'])
        .where('verdict', '=', 'rejected')
        .where('body_length', 'is', null)
        .orderBy('id')
        .limit(100)
        .execute();
      if (rows.length === 0) break;
      for (const r of rows as Array<{ id: number; raw_body: string }>) {
        const bytes = Buffer.from(r.raw_body, 'latin1');
        await db
          .updateTable('srv_notifications')
          .set({
            raw_body: bytes.subarray(0, 4096).toString('latin1'),
            body_length: bytes.length,
            body_sha256: createHash('sha256').update(bytes).digest('hex'),
          })
          .where('id', '=', r.id)
          .execute();
      }
    }
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('srv_notifications').dropColumn('body_sha256').execute();
    await db.schema.alterTable('srv_notifications').dropColumn('body_length').execute();
  },
};

const noReservationIndex: Migration = {
  name: '0009_no_reservation_index',
  async up(db: AnyDb) {
    // Every refunded trade's reservation is released by the notification's apply, which wrote one index entry
    // away per trade on a scattered page (≈ 12 % of the server's CPU per applied notification, decision 67). A
    // batch's reservations are found through its records instead (`heldTrades`), by key.
    await db.schema.dropIndex('srv_trades_open_batch').execute();
  },
  async down(db: AnyDb) {
    await createPartialReservationIndex(db);
  },
};

export const serverMigrations: readonly Migration[] = [
  initial,
  indexes,
  reconcileAttempts,
  sessionPicks,
  partialReservationIndex,
  loginThrottleTokens,
  rolesApproval,
  rejectedBodyDigest,
  noReservationIndex,
];
