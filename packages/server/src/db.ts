/**
 * Row types of the server's tables (all prefixed `srv_`, so that the sandbox and the server can share one
 * database file in the demo). Money is integer fen, times are ISO-8601 UTC strings, booleans are 0/1 integers.
 */
import type { Database } from '@alirefund/store';
import type { Generated } from 'kysely';
import type { Role } from './auth/roles.js';

/** Status of a paid trade as the merchant sees it. */
export type TradeStatus = 'paid' | 'partially_refunded' | 'fully_refunded';

/**
 * The batch state machine:
 *
 * ```
 * draft ──▶ queued ──▶ submitted ──▶ accepted ──▶ finished
 *   │         │            │ │            │
 *   │         │            │ └──▶ rejected (gateway F: nothing was processed)
 *   │         │            └────▶ needs_attention (SYSTEM_ERROR & co or transport failure: outcome unknown)
 *   └─────────┴──▶ cancelled (never left the process)
 * needs_attention ──▶ accepted | rejected | resubmit_manually (operator decision) ; a notification ──▶ finished
 * submitted | accepted (no notification) ──▶ resubmit_manually (operator decision)
 * ```
 *
 * A pwd batch goes draft ──▶ submitted when its form is rendered for the operator's browser.
 *
 * The two-person rule (services/approval.ts): a batch that needs approval is created `awaiting_approval`, which
 * is stored as `draft` with `approval_status = 'pending'` (the CHECK on `state` cannot change on SQLite) and
 * never read back as `draft`; approved ──▶ draft (approval_status 'approved'), rejected ──▶ cancelled.
 */
export type BatchState =
  | 'awaiting_approval'
  | 'draft'
  | 'queued'
  | 'submitted'
  | 'accepted'
  | 'finished'
  | 'rejected'
  | 'needs_attention'
  | 'resubmit_manually'
  | 'cancelled';

/** Every batch state, in the order the console lists them (filters, exports). */
export const BATCH_STATES: readonly BatchState[] = [
  'awaiting_approval',
  'draft',
  'queued',
  'submitted',
  'accepted',
  'finished',
  'rejected',
  'needs_attention',
  'resubmit_manually',
  'cancelled',
];

/** States in which a batch still reserves its trades (no other batch may take them). */
export const OPEN_STATES: readonly BatchState[] = [
  'awaiting_approval',
  'draft',
  'queued',
  'submitted',
  'accepted',
  'needs_attention',
];

export type RefundMode = 'pwd' | 'nopwd';

export type NotificationVerdict = 'accepted' | 'duplicate' | 'rejected';

export interface TradesTable {
  trade_no: string;
  /** The merchant's order id (out_trade_no). */
  out_trade_no: string | null;
  partner: string;
  paid_fen: number;
  refunded_fen: Generated<number>;
  refund_count: Generated<number>;
  status: TradeStatus;
  has_royalty: Generated<number>;
  /** JSON array of the royalty parts of the payment: `[{account, userId, amountFen}]`. */
  royalty_json: string | null;
  subject: string | null;
  buyer: string | null;
  paid_at: string | null;
  /** The open batch that currently reserves this trade, if any. */
  open_batch_no: string | null;
  /** Last trade_status seen in a trade_status_sync notification. */
  gateway_status: string | null;
  /** Set when a trade notification disagreed with local state. */
  reconcile_note: string | null;
  created_at: string;
  updated_at: string;
}

export interface BatchesTable {
  batch_no: string;
  partner: string;
  mode: RefundMode;
  charset: string;
  sign_type: string;
  state: BatchState;
  refund_date: string;
  detail_data: string;
  record_count: number;
  total_fen: number;
  notify_url: string | null;
  /** Links the batches one createBatches call split a selection into. */
  group_id: string | null;
  group_index: Generated<number>;
  group_size: Generated<number>;
  created_by: string;
  created_at: string;
  updated_at: string;
  queued_at: string | null;
  submitted_at: string | null;
  accepted_at: string | null;
  finished_at: string | null;
  rejected_at: string | null;
  attention_at: string | null;
  resolved_at: string | null;
  cancelled_at: string | null;
  /** Gateway code of the synchronous answer (F codes, SYSTEM_ERROR, TRANSPORT_ERROR…). */
  gateway_code: string | null;
  gateway_message: string | null;
  success_num: number | null;
  success_fen: number | null;
  applied_at: string | null;
  applied_notify_id: string | null;
  applied_notification_id: number | null;
  /** The two-person rule (migration 0008): null when the batch needed no approval. */
  approval_status: Generated<'pending' | 'approved' | 'rejected' | null>;
  /** Who approved or rejected it (`operator:NAME`, `api:TOKEN`), when, and why (a rejection's reason). */
  approval_by: Generated<string | null>;
  approval_at: Generated<string | null>;
  approval_reason: Generated<string | null>;
  /** The operator behind the API token that prepared the batch (`operator:NAME`), when there is one. */
  created_owner: Generated<string | null>;
}

export interface BatchRecordsTable {
  batch_no: string;
  /** 1-based position in detail_data. */
  seq: number;
  trade_no: string;
  amount_fen: number;
  reason: string;
  /** JSON array of royalty refund items `[{outAccount,outUserId,inAccount,inUserId,amountFen,reason}]`. */
  royalty_json: string | null;
  result_code: string | null;
  result_amount_fen: number | null;
  /** 1 = the trade part succeeded, 0 = failed, null = no result yet. */
  succeeded: number | null;
  /** The record's result text as received (`trade_no^amount^code…`). */
  result_text: string | null;
  /** JSON of royalty/charge/sub-trade results. */
  result_parts_json: string | null;
}

export interface NotificationsTable {
  id: Generated<number>;
  /** batch_refund_notify, trade_status_sync, or what the body claimed / `unknown`. */
  kind: string;
  batch_no: string | null;
  trade_no: string | null;
  notify_id: string | null;
  notify_time: string | null;
  verdict: NotificationVerdict;
  /** Stable code of why it was rejected or flagged (SIGN_MISMATCH, UNKNOWN_BATCH, …). */
  reason_code: string | null;
  reason: string | null;
  /**
   * The raw body, bytes mapped 1:1 to characters (latin1): percent-encoded bodies read as sent. For a `rejected`
   * delivery (never authenticated) only its first 4 KB; `body_length` and `body_sha256` then describe the whole.
   */
  raw_body: string;
  /** Bytes of the whole body, for rejected deliveries (migration 0006); null otherwise. */
  body_length: number | null;
  /** Lower-case hex SHA-256 of the whole body, for rejected deliveries (migration 0006); null otherwise. */
  body_sha256: string | null;
  headers_json: string;
  remote_addr: string | null;
  charset: string | null;
  received_at: string;
  applied_at: string | null;
  /** The exact body answered: `success` or `fail`. */
  response: string;
}

export interface BatchEventsTable {
  id: Generated<number>;
  batch_no: string;
  at: string;
  /** created, queued, submitted, accepted, rejected, needs_attention, finished, notification, note, … */
  kind: string;
  state: string | null;
  message: string;
  data_json: string | null;
  actor: string;
}

export interface PartnerLocksTable {
  partner: string;
  batch_no: string | null;
  since: string | null;
}

export interface OperatorsTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  display_name: string | null;
  created_at: string;
  disabled_at: string | null;
  last_login_at: string | null;
  /** Migration 0008; operators from before it are admins. */
  role: Generated<Role>;
}

export interface SessionsTable {
  /** sha256 of the session token (the cookie value is never stored). */
  id: string;
  operator_id: number;
  csrf_token: string;
  lang: string | null;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
}

export interface ApiTokensTable {
  id: Generated<number>;
  name: string;
  /** sha256 of the token. */
  token_hash: string;
  /** First characters of the token, to tell tokens apart in lists. */
  prefix: string;
  created_at: string;
  created_by: string;
  last_used_at: string | null;
  revoked_at: string | null;
  /** The token's role (migration 0008; tokens from before it are `operator`). */
  scope: Generated<Role>;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  /** `operator:NAME`, `api:TOKEN_NAME`, `system`. */
  actor: string;
  action: string;
  target: string | null;
  details_json: string | null;
  ip: string | null;
}

/** One refund_fastpay_query asked by the reconciler for a batch without an applied notification. */
export interface ReconcileAttemptsTable {
  id: Generated<number>;
  batch_no: string;
  at: string;
  /** `system` (the server's timer), `cli`, `operator:NAME`. */
  actor: string;
  state_before: string;
  state_after: string;
  /** applied, already_applied, pending, resubmit_manually, not_at_gateway, outcome_unknown, query_error, unavailable. */
  outcome: string;
  gateway_code: string | null;
  message: string;
  /** The gateway's reply body (truncated). */
  reply: string | null;
  /** The srv_notifications row recorded when the answer was applied. */
  notification_id: number | null;
}

/** The server's schema as Kysely sees it. */
export interface ServerDB {
  srv_trades: TradesTable;
  srv_batches: BatchesTable;
  srv_batch_records: BatchRecordsTable;
  srv_notifications: NotificationsTable;
  srv_batch_events: BatchEventsTable;
  srv_partner_locks: PartnerLocksTable;
  srv_operators: OperatorsTable;
  srv_sessions: SessionsTable;
  srv_api_tokens: ApiTokensTable;
  srv_audit_log: AuditLogTable;
  srv_reconcile_attempts: ReconcileAttemptsTable;
}

/** An open database with the server's schema. */
export type ServerDatabase = Database<ServerDB>;
