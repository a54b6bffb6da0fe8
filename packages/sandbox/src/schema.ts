/**
 * The sandbox's tables (all prefixed `sbx_`, migrations in namespace `sandbox`) and their row types.
 *
 * Conventions (those of `@alirefund/store`): money is BIGINT integer fen, booleans are INTEGER 0/1, times are
 * BIGINT epoch milliseconds of the sandbox clock (which may be offset from the host's).
 */
import { type Generated, type Kysely, sql } from 'kysely';
import type { Migration, MigrationContext } from '@alirefund/store';

export interface MetaTable {
  key: string;
  value: string;
}

export interface PartnerTable {
  partner: string;
  md5_key: string;
  email: string;
  payment_password: string;
  /** PEM public key of the merchant, for requests signed with sign_type=RSA. */
  rsa_public_key: string | null;
  /** Comma-separated service names the partner has contracted. */
  services: string;
  created_at: number;
}

/**
 * Every party that can hold money: partners (sellers), plain accounts (royalty parties), and system
 * accounts (`SYS:OPENING`, `SYS:BUYERS`). `balance_fen` is a cache of the sum of the account's ledger entries,
 * updated in the same transaction.
 */
export interface AccountTable {
  account_id: string;
  email: string | null;
  /** `frozen`: one per freeze order (`FRZ:<freezeOrderNo>`), its balance is what is still frozen. */
  kind: 'partner' | 'user' | 'system' | 'frozen';
  balance_fen: number;
  created_at: number;
}

/** "Signed the protocol" (sign_protocol_with_partner): `user_id` may take part in `partner`'s refunds. */
export interface ProtocolTable {
  partner: string;
  user_id: string;
}

export interface TradeTable {
  trade_no: string;
  partner: string;
  seller_id: string;
  out_trade_no: string | null;
  buyer_email: string | null;
  amount_fen: number;
  /** Status given at creation; the effective status also depends on the refunds (`effectiveStatus`, processing/records.ts). */
  status: string;
  notify_url: string | null;
  created_at: number;
  /** How the buyer paid: `balance` (refunds go to the buyer's balance) or `bank_card` (refunds are 充退). 0002. */
  paid_with: Generated<'balance' | 'bank_card'>;
  /** The service fee Alipay charged the seller at payment, fen; null = no fee. 0002. */
  fee_fen: Generated<number | null>;
}

/** Frozen funds of an account (0002): the order's ledger account `FRZ:<freeze_order_no>` holds what is left. */
export interface FreezeTable {
  freeze_order_no: string;
  /** The owner (a partner's account). */
  account_id: string;
  amount_fen: number;
  created_at: number;
}

/** One release of frozen funds by a refund (0002): a record of `unfreezed_details`. */
export interface UnfreezeTable {
  unfreeze_order_no: string;
  freeze_order_no: string;
  partner: string;
  batch_no: string;
  record_no: number;
  trade_no: string;
  amount_fen: number;
  processed_at: number;
  status: string;
  code: string;
}

/** Royalty (分润) paid out of a trade to an account when it was paid. */
export interface TradeRoyaltyTable {
  trade_no: string;
  account_id: string;
  amount_fen: number;
}

export interface BatchTable {
  partner: string;
  batch_no: string;
  service: string;
  charset: string;
  sign_type: string;
  notify_url: string | null;
  seller_id: string | null;
  use_freeze: number;
  detail_data: string;
  record_count: number;
  /** awaiting_confirmation → queued → done (pwd); queued → done (nopwd). */
  status: 'awaiting_confirmation' | 'queued' | 'done';
  /** 1 when the batch was accepted while another batch of the partner was being processed. */
  locked: number;
  /** sha256 of the pwd confirmation token. */
  confirm_token_hash: string | null;
  wrong_passwords: number;
  created_at: number;
  accepted_at: number | null;
  processed_at: number | null;
  success_num: number | null;
  result_details: string | null;
  /** 充退通知地址 of a nopwd batch. 0002. */
  dback_notify_url: Generated<string | null>;
  /** The `unfreezed_details` sent with the notification (null = none). 0002. */
  unfreezed_details: Generated<string | null>;
}

/** One per record of a processed batch: what happened to it (the source of refund_fastpay_query). */
export interface BatchRecordTable {
  partner: string;
  batch_no: string;
  record_no: number;
  trade_no: string;
  amount_fen: number;
  code: string;
  succeeded: number;
  /** The trade amount as the request wrote it (echoed in result_details). */
  amount_text: string;
  /** Charge / royalty / sub-trade results as JSON (ResultRecord's parts), null for a plain trade record. */
  parts_json: string | null;
  processed_at: number;
  /** 充退 status of a successful refund of a bank-card trade: P (in progress), S, F; null otherwise. 0002. */
  dback_status: Generated<'P' | 'S' | 'F' | null>;
  /** When the 充退 was settled (S or F). 0002. */
  dback_settled_at: Generated<number | null>;
}

/**
 * `freeze`/`unfreeze`: funds moved into / released from a freeze order's account; `fee_refund`: the service fee
 * handed back to the seller; `dback`: a 充退 leaving the in-transit account once settled (all 0002).
 */
export type EntryKind =
  | 'opening'
  | 'trade_refund'
  | 'royalty_refund'
  | 'adjustment'
  | 'freeze'
  | 'unfreeze'
  | 'fee_refund'
  | 'dback';

export interface EntryTable {
  id: Generated<number>;
  /** Entries of one money movement share a txn id; each txn sums to zero. */
  txn_id: string;
  account_id: string;
  amount_fen: number;
  kind: EntryKind;
  partner: string | null;
  batch_no: string | null;
  trade_no: string | null;
  created_at: number;
}

export interface NotificationTable {
  id: Generated<number>;
  partner: string;
  batch_no: string | null;
  trade_no: string | null;
  /** `dback_notify`: the 充退 result to the batch's dback_notify_url (0002; its parameters are INF). */
  kind: 'batch_refund_notify' | 'trade_status_sync' | 'dback_notify';
  notify_id: string;
  url: string;
  charset: string;
  sign_type: string;
  /** Parameters without notify_time, sign and sign_type (added at each send), JSON. */
  params_json: string;
  /** pending → delivered | failed; held while a reorder fault collects notifications. */
  status: 'pending' | 'held' | 'delivered' | 'failed';
  attempts: number;
  max_attempts: number;
  next_attempt_at: number;
  last_attempt_at: number | null;
  created_at: number;
  delivered_at: number | null;
}

export interface DeliveryTable {
  id: Generated<number>;
  notification_id: number;
  attempt: number;
  started_at: number;
  /** acknowledged (body exactly `success`), rejected (other body), http_error, timeout, network_error, dropped. */
  outcome: string;
  http_status: number | null;
  request_body: string;
  response_body: string | null;
  latency_ms: number | null;
  error: string | null;
}

/** Every gateway request, accepted or not, for the state page and the admin API. */
export interface RequestLogTable {
  id: Generated<number>;
  at: number;
  service: string | null;
  partner: string | null;
  batch_no: string | null;
  method: string;
  outcome: string;
  message: string | null;
}

export interface SandboxDB {
  sbx_meta: MetaTable;
  sbx_partners: PartnerTable;
  sbx_accounts: AccountTable;
  sbx_protocols: ProtocolTable;
  sbx_trades: TradeTable;
  sbx_trade_royalties: TradeRoyaltyTable;
  sbx_freezes: FreezeTable;
  sbx_unfreezes: UnfreezeTable;
  sbx_batches: BatchTable;
  sbx_batch_records: BatchRecordTable;
  sbx_entries: EntryTable;
  sbx_notifications: NotificationTable;
  sbx_deliveries: DeliveryTable;
  sbx_requests: RequestLogTable;
}

// biome-ignore lint/suspicious/noExplicitAny: migrations see the schema as it was then.
type AnyDb = Kysely<any>;

function idTable<N extends string>(db: AnyDb, name: N, ctx: MigrationContext) {
  const t = db.schema.createTable(name);
  return ctx.dialect === 'postgres'
    ? t.addColumn('id', 'bigserial', (c) => c.primaryKey())
    : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

async function up001(db: AnyDb, ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('sbx_meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('sbx_partners')
    .addColumn('partner', 'text', (c) => c.primaryKey())
    .addColumn('md5_key', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('payment_password', 'text', (c) => c.notNull())
    .addColumn('rsa_public_key', 'text')
    .addColumn('services', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('sbx_accounts')
    .addColumn('account_id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.unique())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('balance_fen', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('sbx_protocols')
    .addColumn('partner', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sbx_protocols_pk', ['partner', 'user_id'])
    .execute();
  await db.schema
    .createTable('sbx_trades')
    .addColumn('trade_no', 'text', (c) => c.primaryKey())
    .addColumn('partner', 'text', (c) => c.notNull())
    .addColumn('seller_id', 'text', (c) => c.notNull())
    .addColumn('out_trade_no', 'text')
    .addColumn('buyer_email', 'text')
    .addColumn('amount_fen', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('notify_url', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('sbx_trades_partner')
    .on('sbx_trades')
    .columns(['partner', 'created_at'])
    .execute();
  await db.schema
    .createTable('sbx_trade_royalties')
    .addColumn('trade_no', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('amount_fen', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sbx_trade_royalties_pk', ['trade_no', 'account_id'])
    .execute();
  await db.schema
    .createTable('sbx_batches')
    .addColumn('partner', 'text', (c) => c.notNull())
    .addColumn('batch_no', 'text', (c) => c.notNull())
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('charset', 'text', (c) => c.notNull())
    .addColumn('sign_type', 'text', (c) => c.notNull())
    .addColumn('notify_url', 'text')
    .addColumn('seller_id', 'text')
    .addColumn('use_freeze', 'integer', (c) => c.notNull())
    .addColumn('detail_data', 'text', (c) => c.notNull())
    .addColumn('record_count', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('locked', 'integer', (c) => c.notNull())
    .addColumn('confirm_token_hash', 'text')
    .addColumn('wrong_passwords', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('accepted_at', 'bigint')
    .addColumn('processed_at', 'bigint')
    .addColumn('success_num', 'integer')
    .addColumn('result_details', 'text')
    .addPrimaryKeyConstraint('sbx_batches_pk', ['partner', 'batch_no'])
    .execute();
  await db.schema
    .createIndex('sbx_batches_status')
    .on('sbx_batches')
    .columns(['status', 'accepted_at'])
    .execute();
  await db.schema
    .createTable('sbx_batch_records')
    .addColumn('partner', 'text', (c) => c.notNull())
    .addColumn('batch_no', 'text', (c) => c.notNull())
    .addColumn('record_no', 'integer', (c) => c.notNull())
    .addColumn('trade_no', 'text', (c) => c.notNull())
    .addColumn('amount_fen', 'bigint', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('succeeded', 'integer', (c) => c.notNull())
    .addColumn('amount_text', 'text', (c) => c.notNull())
    .addColumn('parts_json', 'text')
    .addColumn('processed_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sbx_batch_records_pk', ['partner', 'batch_no', 'record_no'])
    .execute();
  await db.schema
    .createIndex('sbx_batch_records_trade')
    .on('sbx_batch_records')
    .columns(['trade_no', 'succeeded'])
    .execute();
  await idTable(db, 'sbx_entries', ctx)
    .addColumn('txn_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('amount_fen', 'bigint', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('partner', 'text')
    .addColumn('batch_no', 'text')
    .addColumn('trade_no', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  // Only royalty entries are looked up by trade (what was already pulled back); trade refunds are found through
  // sbx_batch_records. A partial index keeps the 2 entries per refunded record cheap to write.
  await db.schema
    .createIndex('sbx_entries_royalty')
    .on('sbx_entries')
    .columns(['trade_no', 'account_id'])
    .where(sql.ref('kind'), '=', 'royalty_refund')
    .execute();
  await idTable(db, 'sbx_notifications', ctx)
    .addColumn('partner', 'text', (c) => c.notNull())
    .addColumn('batch_no', 'text')
    .addColumn('trade_no', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('notify_id', 'text', (c) => c.notNull().unique())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('charset', 'text', (c) => c.notNull())
    .addColumn('sign_type', 'text', (c) => c.notNull())
    .addColumn('params_json', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('last_attempt_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('sbx_notifications_due')
    .on('sbx_notifications')
    .columns(['status', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('sbx_notifications_batch')
    .on('sbx_notifications')
    .columns(['partner', 'batch_no'])
    .execute();
  await idTable(db, 'sbx_deliveries', ctx)
    .addColumn('notification_id', 'bigint', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('http_status', 'integer')
    .addColumn('request_body', 'text', (c) => c.notNull())
    .addColumn('response_body', 'text')
    .addColumn('latency_ms', 'integer')
    .addColumn('error', 'text')
    .execute();
  await db.schema
    .createIndex('sbx_deliveries_notification')
    .on('sbx_deliveries')
    .columns(['notification_id'])
    .execute();
  await idTable(db, 'sbx_requests', ctx)
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('service', 'text')
    .addColumn('partner', 'text')
    .addColumn('batch_no', 'text')
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .execute();
}

/** Frozen funds, 充退 (bank-card trades) and trade fees. */
async function up002(db: AnyDb, _ctx: MigrationContext): Promise<void> {
  // SQLite adds one column per ALTER TABLE.
  await db.schema
    .alterTable('sbx_trades')
    .addColumn('paid_with', 'text', (c) => c.notNull().defaultTo('balance'))
    .execute();
  await db.schema.alterTable('sbx_trades').addColumn('fee_fen', 'bigint').execute();
  await db.schema.alterTable('sbx_batches').addColumn('dback_notify_url', 'text').execute();
  await db.schema.alterTable('sbx_batches').addColumn('unfreezed_details', 'text').execute();
  await db.schema.alterTable('sbx_batch_records').addColumn('dback_status', 'text').execute();
  await db.schema.alterTable('sbx_batch_records').addColumn('dback_settled_at', 'bigint').execute();
  await db.schema
    .createTable('sbx_freezes')
    .addColumn('freeze_order_no', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('amount_fen', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('sbx_freezes_account')
    .on('sbx_freezes')
    .columns(['account_id', 'created_at'])
    .execute();
  await db.schema
    .createTable('sbx_unfreezes')
    .addColumn('unfreeze_order_no', 'text', (c) => c.primaryKey())
    .addColumn('freeze_order_no', 'text', (c) => c.notNull())
    .addColumn('partner', 'text', (c) => c.notNull())
    .addColumn('batch_no', 'text', (c) => c.notNull())
    .addColumn('record_no', 'integer', (c) => c.notNull())
    .addColumn('trade_no', 'text', (c) => c.notNull())
    .addColumn('amount_fen', 'bigint', (c) => c.notNull())
    .addColumn('processed_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('sbx_unfreezes_batch')
    .on('sbx_unfreezes')
    .columns(['partner', 'batch_no', 'record_no'])
    .execute();
  await db.schema
    .createIndex('sbx_batch_records_dback')
    .on('sbx_batch_records')
    .columns(['dback_status'])
    .where(sql.ref('dback_status'), 'is not', null)
    .execute();
}

/** Migrations of namespace `sandbox`. Never rename or reorder a shipped one; add new ones at the end. */
export const sandboxMigrations: readonly Migration[] = [
  { name: '0001_sandbox', up: up001 },
  { name: '0002_freeze_dback_fee', up: up002 },
];
