/**
 * Recording deliveries: every delivery to the notify endpoints becomes one `srv_notifications` row with its
 * verdict, the raw body as received (latin1), the headers (minus credentials) and the exact answer. A delivery
 * that changes nothing (rejected, duplicate) is recorded here on its own; an applied one inside the apply
 * transaction (notify-apply.ts).
 */
import { createHash } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { NotificationsTable, NotificationVerdict, ServerDB } from '../db.js';
import type { ServiceDeps } from './deps.js';
import type { IncomingNotification, NotificationView, NotifyOutcome } from './notification-types.js';
import { createRejectionLimiter, type RejectionLimiter } from './notify-limit.js';
import { compiled, valuesText } from './sql-text.js';

/** Bytes of a rejected (never authenticated) body that are kept; its length and SHA-256 describe the rest. */
export const REJECTED_BODY_PREFIX = 4096;
/** Characters of a rejected delivery's headers (JSON) that are kept. */
const REJECTED_HEADERS_MAX = 2048;

const HEADER_DENYLIST = new Set(['cookie', 'authorization', 'proxy-authorization']);

const INSERT_NOTIFICATION =
  'insert into srv_notifications (kind, batch_no, trade_no, notify_id, notify_time, verdict, reason_code, reason, ' +
  'raw_body, body_length, body_sha256, headers_json, remote_addr, charset, received_at, applied_at, response) ' +
  'values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id';
const INSERT_MANY_HEAD = INSERT_NOTIFICATION.slice(
  0,
  INSERT_NOTIFICATION.indexOf('values (') + 'values '.length,
);
const ROW_PLACEHOLDERS = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
/** Rows per grouped insert (17 parameters each). */
const MAX_GROUP = 200;

/** A srv_notifications row as shown in lists (the body and headers left out). */
export function notificationView(
  r: Omit<Selectable<NotificationsTable>, 'raw_body' | 'headers_json' | 'body_length' | 'body_sha256'>,
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
  /**
   * The body's SHA-256 when it is byte for byte the applied delivery's (a gateway retry): the row keeps, as for a
   * rejected one, only the first {@link REJECTED_BODY_PREFIX} bytes with the length and this digest, since the
   * whole body is stored on the applied row already.
   */
  sameAsApplied?: string;
}

/** A srv_notifications row to insert. */
export type NotificationRow = Omit<Selectable<NotificationsTable>, 'id'>;

/**
 * A srv_notifications row for `incoming` (the reason cut to 2,000 characters, credential headers dropped). A
 * rejected delivery keeps only the first {@link REJECTED_BODY_PREFIX} bytes of its body, with the body's length and
 * SHA-256, and at most 2 KB of headers: nothing an unauthenticated caller sends is stored whole. A redelivery of
 * the applied body ({@link RecordInput.sameAsApplied}) keeps the same prefix, length and digest.
 */
export function rowFor(incoming: IncomingNotification, receivedAt: string, r: RecordInput): NotificationRow {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(incoming.headers ?? {})) {
    if (!HEADER_DENYLIST.has(k.toLowerCase())) headers[k.toLowerCase()] = v;
  }
  const rejected = r.verdict === 'rejected';
  const digestOnly = rejected || r.sameAsApplied !== undefined;
  const body = incoming.body;
  let headersJson = JSON.stringify(headers);
  if (rejected && headersJson.length > REJECTED_HEADERS_MAX) {
    headersJson = JSON.stringify({ truncated: headersJson.slice(0, REJECTED_HEADERS_MAX) });
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
    raw_body: latin1(digestOnly ? body.subarray(0, REJECTED_BODY_PREFIX) : body),
    body_length: digestOnly ? body.byteLength : null,
    body_sha256: digestOnly ? (r.sameAsApplied ?? createHash('sha256').update(body).digest('hex')) : null,
    headers_json: headersJson,
    remote_addr: incoming.remoteAddr ?? null,
    charset: r.charset,
    received_at: receivedAt,
    applied_at: r.appliedAt ?? null,
    response: r.verdict === 'rejected' ? 'fail' : 'success',
  };
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export interface NotificationRecorder {
  /** The per-address budget of stored rejections. */
  readonly limiter: RejectionLimiter;
  /** The statement inserting `row`, returning its `id` (a step of the notification apply). */
  insertStep(row: NotificationRow): { text: string; parameters: unknown[] };
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
  limiter: RejectionLimiter = createRejectionLimiter(),
): NotificationRecorder {
  const { database, log } = deps;

  function valuesOf(row: NotificationRow): unknown[] {
    return [
      row.kind,
      row.batch_no,
      row.trade_no,
      row.notify_id,
      row.notify_time,
      row.verdict,
      row.reason_code,
      row.reason,
      row.raw_body,
      row.body_length,
      row.body_sha256,
      row.headers_json,
      row.remote_addr,
      row.charset,
      row.received_at,
      row.applied_at,
      row.response,
    ];
  }

  async function insert(db: Kysely<ServerDB>, row: NotificationRow): Promise<number> {
    const res = await db.executeQuery<{ id: number | string }>(
      compiled(database.dialect, INSERT_NOTIFICATION, valuesOf(row)),
    );
    return Number(res.rows[0]!.id);
  }

  /**
   * Rows that change nothing (duplicates, rejections) wait for the next turn of the event loop and are inserted
   * together: one multi-row INSERT, one commit, for every such delivery that arrived meanwhile, instead of a
   * commit each (on SQLite a commit per duplicate was most of its cost). Each caller still gets its row's id,
   * after the commit.
   */
  const pending: Array<{ row: NotificationRow; done: (id: number) => void; fail: (err: unknown) => void }> =
    [];
  let scheduled = false;

  function insertSoon(row: NotificationRow): Promise<number> {
    return new Promise((done, fail) => {
      pending.push({ row, done, fail });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  }

  async function flush(): Promise<void> {
    const group = pending.splice(0, MAX_GROUP);
    if (pending.length > 0) setImmediate(flush);
    else scheduled = false;
    if (group.length === 1) {
      const only = group[0]!;
      await insert(database.db, only.row).then(only.done, only.fail);
      return;
    }
    try {
      const res = await database.db.executeQuery<{ id: number | string }>(
        compiled(
          database.dialect,
          `${INSERT_MANY_HEAD}${valuesText(ROW_PLACEHOLDERS, group.length)} returning id`,
          group.flatMap((g) => valuesOf(g.row)),
        ),
      );
      // One statement's ids follow its VALUES order (SQLite rowids, a PostgreSQL sequence); sorted to be sure.
      const ids = res.rows.map((r) => Number(r.id)).sort((a, b) => a - b);
      for (const [i, g] of group.entries()) g.done(ids[i]!);
    } catch (err) {
      for (const g of group) g.fail(err);
    }
  }

  async function recordOnly(
    incoming: IncomingNotification,
    receivedAt: string,
    r: RecordInput,
  ): Promise<NotifyOutcome> {
    let id: number | null = null;
    if (r.verdict === 'rejected') {
      const turn = limiter.take(incoming.remoteAddr);
      if (!turn.stored) {
        // Over this address's budget of stored rejections: answered, counted, not stored.
        return {
          answer: 'fail',
          verdict: 'rejected',
          reasonCode: r.reasonCode,
          reason: r.reason,
          batchNo: r.batchNo,
          notificationId: null,
          rateLimited: true,
        };
      }
      if (turn.suppressed > 0) {
        r = {
          ...r,
          reason: `${r.reason ?? ''} (${turn.suppressed} earlier rejected deliveries from ${incoming.remoteAddr} were answered but not stored: rate limit)`,
        };
        log.warn(
          { remoteAddr: incoming.remoteAddr, suppressed: turn.suppressed },
          'rejected notifications not stored (rate limit)',
        );
      }
    }
    try {
      id = await insertSoon(rowFor(incoming, receivedAt, r));
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
    limiter,
    insertStep: (row) => ({ text: INSERT_NOTIFICATION, parameters: valuesOf(row) }),
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
