/**
 * Recording deliveries: every delivery to the notify endpoints becomes one `srv_notifications` row with its
 * verdict, the raw body as received (latin1), the headers (minus credentials) and the exact answer. A delivery
 * that changes nothing (rejected, duplicate) is recorded here on its own; an applied one inside the apply
 * transaction (notify-apply.ts).
 */
import type { Kysely, Selectable } from 'kysely';
import type { NotificationsTable, NotificationVerdict, ServerDB } from '../db.js';
import type { ServiceDeps } from './deps.js';
import type { IncomingNotification, NotificationView, NotifyOutcome } from './notification-types.js';
import { compiled } from './sql-text.js';

const HEADER_DENYLIST = new Set(['cookie', 'authorization', 'proxy-authorization']);

const INSERT_NOTIFICATION =
  'insert into srv_notifications (kind, batch_no, trade_no, notify_id, notify_time, verdict, reason_code, reason, ' +
  'raw_body, headers_json, remote_addr, charset, received_at, applied_at, response) ' +
  'values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id';

/** A srv_notifications row as shown in lists (the body and headers left out). */
export function notificationView(
  r: Omit<Selectable<NotificationsTable>, 'raw_body' | 'headers_json'>,
): NotificationView {
  return {
    id: Number(r.id),
    kind: r.kind,
    batchNo: r.batch_no,
    tradeNo: r.trade_no,
    notifyId: r.notify_id,
    notifyTime: r.notify_time,
    verdict: r.verdict,
    reasonCode: r.reason_code,
    reason: r.reason,
    remoteAddr: r.remote_addr,
    charset: r.charset,
    receivedAt: r.received_at,
    appliedAt: r.applied_at,
    response: r.response,
  };
}

/** What is recorded about a delivery, besides the delivery itself. */
export interface RecordInput {
  kind: string;
  verdict: NotificationVerdict;
  reasonCode: string | null;
  reason: string | null;
  batchNo: string | null;
  tradeNo?: string | null;
  notifyId?: string | null;
  notifyTime?: string | null;
  charset: string | null;
  appliedAt?: string | null;
}

/** A srv_notifications row to insert. */
export type NotificationRow = Omit<Selectable<NotificationsTable>, 'id'>;

/** A srv_notifications row for `incoming` (the reason cut to 2,000 characters, credential headers dropped). */
export function rowFor(incoming: IncomingNotification, receivedAt: string, r: RecordInput): NotificationRow {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(incoming.headers ?? {})) {
    if (!HEADER_DENYLIST.has(k.toLowerCase())) headers[k.toLowerCase()] = v;
  }
  return {
    kind: r.kind,
    batch_no: r.batchNo,
    trade_no: r.tradeNo ?? null,
    notify_id: r.notifyId ?? null,
    notify_time: r.notifyTime ?? null,
    verdict: r.verdict,
    reason_code: r.reasonCode,
    reason: r.reason === null ? null : r.reason.slice(0, 2000),
    raw_body: Buffer.from(incoming.body).toString('latin1'),
    headers_json: JSON.stringify(headers),
    remote_addr: incoming.remoteAddr ?? null,
    charset: r.charset,
    received_at: receivedAt,
    applied_at: r.appliedAt ?? null,
    response: r.verdict === 'rejected' ? 'fail' : 'success',
  };
}

export interface NotificationRecorder {
  /** Inserts a row (as built by {@link rowFor}) through `db` and returns its id. */
  insert(db: Kysely<ServerDB>, row: NotificationRow): Promise<number>;
  /** Records a delivery that changes nothing (rejected or duplicate) and builds the outcome. */
  recordOnly(incoming: IncomingNotification, receivedAt: string, r: RecordInput): Promise<NotifyOutcome>;
  /** `reject(code, reason, extra)` for deliveries to one endpoint: records a `rejected` row of `kind`. */
  rejecter(
    incoming: IncomingNotification,
    receivedAt: string,
    kind: string,
  ): (reasonCode: string, reason: string, extra?: Partial<RecordInput>) => Promise<NotifyOutcome>;
}

export function createNotificationRecorder(
  deps: Pick<ServiceDeps, 'database' | 'log'>,
): NotificationRecorder {
  const { database, log } = deps;

  async function insert(db: Kysely<ServerDB>, row: NotificationRow): Promise<number> {
    const res = await db.executeQuery<{ id: number | string }>(
      compiled(database.dialect, INSERT_NOTIFICATION, [
        row.kind,
        row.batch_no,
        row.trade_no,
        row.notify_id,
        row.notify_time,
        row.verdict,
        row.reason_code,
        row.reason,
        row.raw_body,
        row.headers_json,
        row.remote_addr,
        row.charset,
        row.received_at,
        row.applied_at,
        row.response,
      ]),
    );
    return Number(res.rows[0]!.id);
  }

  async function recordOnly(
    incoming: IncomingNotification,
    receivedAt: string,
    r: RecordInput,
  ): Promise<NotifyOutcome> {
    let id: number | null = null;
    try {
      id = await insert(database.db, rowFor(incoming, receivedAt, r));
    } catch (err) {
      // A duplicate changes nothing, so it is still answered success; a rejection is answered fail anyway.
      log.error(
        { err: String(err), batchNo: r.batchNo, verdict: r.verdict },
        'could not record a notification',
      );
    }
    if (r.verdict === 'rejected') {
      log.warn(
        { batchNo: r.batchNo, reasonCode: r.reasonCode, remoteAddr: incoming.remoteAddr },
        'notification rejected',
      );
    }
    return {
      answer: r.verdict === 'rejected' ? 'fail' : 'success',
      verdict: r.verdict,
      reasonCode: r.reasonCode,
      reason: r.reason,
      batchNo: r.batchNo,
      notificationId: id,
    };
  }

  return {
    insert,
    recordOnly,
    rejecter:
      (incoming, receivedAt, kind) =>
      (reasonCode, reason, extra = {}) =>
        recordOnly(incoming, receivedAt, {
          kind,
          verdict: 'rejected',
          reasonCode,
          reason,
          batchNo: null,
          charset: null,
          ...extra,
        }),
  };
}
