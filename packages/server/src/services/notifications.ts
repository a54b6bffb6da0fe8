/**
 * The notify endpoint's logic: batch_refund_notify applied exactly once per batch_no, trade_status_sync
 * recorded and reconciled, every delivery recorded with its verdict.
 *
 * Exactly-once: the apply transaction starts with
 * `UPDATE srv_batches SET applied_at = … WHERE batch_no = ? AND applied_at IS NULL`. Only one transaction can
 * change that row from NULL: on PostgreSQL a concurrent one waits for the row lock and then matches nothing; on
 * SQLite write transactions are serialised (BEGIN IMMEDIATE). The loser records a `duplicate`. A partial unique
 * index (one `accepted` batch_refund_notify per batch_no) backs this up. The answer `success` is produced only
 * after the transaction committed.
 */
import {
  type BatchRefundNotification,
  type Charset,
  callNotifyVerify,
  checkNotificationSignature,
  formatYuan,
  NotificationError,
  normalizeCharset,
  parseBatchRefundNotification,
  parseFormBody,
  parseYuan,
} from '@alirefund/protocol';
import { isUniqueViolation, withTransaction } from '@alirefund/store';
import { type Kysely, sql } from 'kysely';
import { nowIso, type ServiceDeps } from '../context.js';
import type { NotificationVerdict, ServerDB } from '../db.js';
import { clampLimit } from './audit.js';
import { addEvent, releasePartnerLock, releaseTrades } from './refunds.js';
import type { Page } from './trades.js';

/** A delivery as the HTTP layer hands it over: the raw body bytes, untouched. */
export interface IncomingNotification {
  body: Uint8Array;
  headers?: Record<string, string>;
  remoteAddr?: string | null;
}

/** What became of a delivery, and the exact body to answer. */
export interface NotifyOutcome {
  answer: 'success' | 'fail';
  verdict: NotificationVerdict;
  reasonCode: string | null;
  reason: string | null;
  batchNo: string | null;
  notificationId: number | null;
}

export interface NotificationView {
  id: number;
  kind: string;
  batchNo: string | null;
  tradeNo: string | null;
  notifyId: string | null;
  notifyTime: string | null;
  verdict: NotificationVerdict;
  reasonCode: string | null;
  reason: string | null;
  remoteAddr: string | null;
  charset: string | null;
  receivedAt: string;
  appliedAt: string | null;
  response: string;
}

export interface NotificationDetail extends NotificationView {
  rawBody: string;
  headers: Record<string, string>;
  /** The body's parameters decoded in `charset` (no verification), for display. */
  params: Record<string, string> | null;
}

export interface NotificationListQuery {
  batchNo?: string;
  tradeNo?: string;
  verdict?: NotificationVerdict;
  kind?: string;
  /** Substring of the raw body, batch_no, notify_id or reason. */
  q?: string;
  page?: number;
  pageSize?: number;
}

export interface NotificationService {
  /** POST /alipay/notify: decode in the batch's charset, verify sign, notify_verify, apply once, record. */
  handleBatchNotify(incoming: IncomingNotification): Promise<NotifyOutcome>;
  /** POST /alipay/trade-notify: verify, record, reconcile with local state (never applies a refund). */
  handleTradeNotify(incoming: IncomingNotification): Promise<NotifyOutcome>;
  list(query?: NotificationListQuery): Promise<Page<NotificationView>>;
  get(id: number): Promise<NotificationDetail | null>;
  /**
   * Applies a batch result learned another way (the reconciler's refund_fastpay_query answer) through the very
   * transaction and exactly-once guard of {@link handleBatchNotify}. Returns the recorded row's id, or null when
   * the batch had already been applied (by a notification or an earlier run): nothing changed then.
   */
  applyBatchResult(n: BatchRefundNotification, source: AppliedSource): Promise<number | null>;
}

/** Where an applied result came from, when it was not a delivery to the notify endpoint. */
export interface AppliedSource {
  /** Recorded as the row's kind, e.g. `refund_fastpay_query`. */
  kind: string;
  /** The gateway's reply, stored as the row's raw body. */
  body: Uint8Array;
  charset: Charset;
  reasonCode: string;
  reason: string;
}

/** Hooks (set by createServices). */
export interface NotificationHooks {
  /** A batch's notification was applied: the partner's queue may move on. */
  batchFinished(batchNo: string): void;
}

const BATCH_NO_TOKEN = /^[0-9A-Za-z]{1,64}$/;
const HEADER_DENYLIST = new Set(['cookie', 'authorization', 'proxy-authorization']);

/**
 * Reads one parameter from a form body without decoding the rest: batch_no is ASCII, so it can be read before
 * knowing the batch's charset. Null when absent, repeated, or not a plain token.
 */
export function peekParam(rawLatin1: string, name: string): string | null {
  let found: string | null = null;
  for (const part of rawLatin1.split('&')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (key !== name) continue;
    if (found !== null) return null;
    let value = eq < 0 ? '' : part.slice(eq + 1);
    if (value.includes('%')) {
      try {
        value = decodeURIComponent(value);
      } catch {
        return null;
      }
    }
    found = value;
  }
  return found !== null && BATCH_NO_TOKEN.test(found) ? found : null;
}

function view(r: {
  id: number;
  kind: string;
  batch_no: string | null;
  trade_no: string | null;
  notify_id: string | null;
  notify_time: string | null;
  verdict: NotificationVerdict;
  reason_code: string | null;
  reason: string | null;
  remote_addr: string | null;
  charset: string | null;
  received_at: string;
  applied_at: string | null;
  response: string;
}): NotificationView {
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

const TRADE_NOTIFY_TYPE = 'trade_status_sync';

export function createNotificationService(deps: ServiceDeps, hooks: NotificationHooks): NotificationService {
  const { database, clock, config, log } = deps;

  interface RecordInput {
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

  function rowFor(incoming: IncomingNotification, receivedAt: string, r: RecordInput) {
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

  /** Records a delivery that changes nothing (rejected or duplicate) and builds the outcome. */
  async function recordOnly(
    incoming: IncomingNotification,
    receivedAt: string,
    r: RecordInput,
  ): Promise<NotifyOutcome> {
    let id: number | null = null;
    try {
      const row = await database.db
        .insertInto('srv_notifications')
        .values(rowFor(incoming, receivedAt, r))
        .returning('id')
        .executeTakeFirstOrThrow();
      id = Number(row.id);
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

  function describe(err: unknown): { code: string; message: string } {
    if (err instanceof NotificationError) return { code: err.code, message: err.message };
    return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
  }

  async function verifyRemote(notifyId: string): Promise<void> {
    await callNotifyVerify(config.gateway, config.partner, notifyId, { fetch: deps.fetch, timeoutMs: 5000 });
  }

  /** The apply transaction. Returns the notification id, or null when another delivery applied it first. */
  async function apply(
    incoming: IncomingNotification,
    receivedAt: string,
    n: BatchRefundNotification,
    charset: Charset,
    source?: AppliedSource,
  ): Promise<number | null> {
    const batchNo = n.batchNo;
    return withTransaction(database, async (trx) => {
      const now = nowIso(clock);
      const won = await trx
        .updateTable('srv_batches')
        .set({
          state: 'finished',
          finished_at: now,
          applied_at: now,
          applied_notify_id: n.notifyId,
          success_num: n.successNum,
          updated_at: now,
        })
        .where('batch_no', '=', batchNo)
        .where('applied_at', 'is', null)
        .executeTakeFirst();
      if (won.numUpdatedRows !== 1n) return null;
      const inserted = await trx
        .insertInto('srv_notifications')
        .values(
          rowFor(incoming, receivedAt, {
            kind: source?.kind ?? 'batch_refund_notify',
            verdict: 'accepted',
            reasonCode: source?.reasonCode ?? null,
            reason: source?.reason ?? null,
            batchNo,
            notifyId: n.notifyId,
            notifyTime: n.notifyTime,
            charset,
            appliedAt: now,
          }),
        )
        .returning('id')
        .executeTakeFirstOrThrow();
      const notificationId = Number(inserted.id);
      const { successFen, anomalies, failed } = await applyResults(trx, batchNo, n, now);
      await releaseTrades(trx, batchNo, now);
      await releasePartnerLock(trx, config.partner, batchNo);
      await trx
        .updateTable('srv_batches')
        .set({ success_fen: successFen, applied_notification_id: notificationId })
        .where('batch_no', '=', batchNo)
        .execute();
      await addEvent(trx, {
        batchNo,
        at: now,
        kind: 'notification',
        state: 'finished',
        message: `${source ? `${source.kind} answer` : `notification ${n.notifyId}`} applied: ${n.successNum} record(s) refunded (${formatYuan(successFen)} yuan), ${failed} failed`,
        data: { notificationId, successNum: n.successNum, ...(source ? { via: source.kind } : {}) },
        actor: 'gateway',
      });
      if (anomalies.length > 0) {
        await addEvent(trx, {
          batchNo,
          at: now,
          kind: 'anomaly',
          state: null,
          message: anomalies.slice(0, 20).join('; '),
          data: { anomalies },
          actor: 'gateway',
        });
      }
      return notificationId;
    });
  }

  /**
   * Applies result_details to the batch records and trades (inside the apply transaction), set-based: one upsert
   * for the records and one UPDATE … FROM for the trades, whatever the batch size.
   */
  async function applyResults(
    trx: Kysely<ServerDB>,
    batchNo: string,
    n: BatchRefundNotification,
    now: string,
  ) {
    const records = await trx
      .selectFrom('srv_batch_records')
      .selectAll()
      .where('batch_no', '=', batchNo)
      .execute();
    const byTrade = new Map(records.map((r) => [r.trade_no, r]));
    const seen = new Set<string>();
    const texts = n.resultDetailsText.split('#');
    const anomalies: string[] = [];
    const updatedRecords: Array<(typeof records)[number]> = [];
    const refunds: Array<{ tradeNo: string; fen: number }> = [];
    let successFen = 0;
    let failed = 0;
    for (const [i, res] of n.resultDetails.entries()) {
      const rec = byTrade.get(res.tradeNo);
      if (!rec) {
        anomalies.push(`result for trade ${res.tradeNo} (${res.code}), which is not in this batch`);
        continue;
      }
      if (seen.has(res.tradeNo)) {
        anomalies.push(`trade ${res.tradeNo} has two results; the first was applied`);
        continue;
      }
      seen.add(res.tradeNo);
      const parts: Record<string, unknown> = {};
      if (res.charge) parts['charge'] = res.charge;
      if (res.royalties) parts['royalties'] = res.royalties;
      if (res.subTrade) parts['subTrade'] = res.subTrade;
      if (res.toBankCard !== undefined) parts['toBankCard'] = res.toBankCard;
      if (res.bankCardStatus !== undefined) parts['bankCardStatus'] = res.bankCardStatus;
      updatedRecords.push({
        ...rec,
        result_code: res.code,
        result_amount_fen: res.amountFen,
        succeeded: res.succeeded ? 1 : 0,
        result_text: texts[i] ?? null,
        result_parts_json: Object.keys(parts).length > 0 ? JSON.stringify(parts) : null,
      });
      if (!res.succeeded) {
        failed++;
        continue;
      }
      successFen += res.amountFen;
      refunds.push({ tradeNo: res.tradeNo, fen: res.amountFen });
      if (res.amountFen !== Number(rec.amount_fen)) {
        anomalies.push(
          `trade ${res.tradeNo}: ${formatYuan(res.amountFen)} yuan refunded, ${formatYuan(Number(rec.amount_fen))} requested`,
        );
      }
    }
    const missing = records.filter((r) => !seen.has(r.trade_no));
    for (const m of missing) updatedRecords.push({ ...m, result_code: 'NO_RESULT', succeeded: 0 });
    if (missing.length > 0) {
      failed += missing.length;
      anomalies.push(
        `no result for ${missing.length} record(s): ${missing
          .slice(0, 10)
          .map((m) => m.trade_no)
          .join(', ')}`,
      );
    }
    for (let i = 0; i < updatedRecords.length; i += 500) {
      await trx
        .insertInto('srv_batch_records')
        .values(updatedRecords.slice(i, i + 500))
        .onConflict((oc) =>
          oc.columns(['batch_no', 'seq']).doUpdateSet((eb) => ({
            result_code: eb.ref('excluded.result_code'),
            result_amount_fen: eb.ref('excluded.result_amount_fen'),
            succeeded: eb.ref('excluded.succeeded'),
            result_text: eb.ref('excluded.result_text'),
            result_parts_json: eb.ref('excluded.result_parts_json'),
          })),
        )
        .execute();
    }
    let updatedTrades = 0;
    for (let i = 0; i < refunds.length; i += 500) {
      const chunk = refunds.slice(i, i + 500);
      const values = sql.join(chunk.map((r) => sql`(${r.tradeNo}, cast(${r.fen} as bigint))`));
      // One statement for all successful records: amounts, counts and statuses (a 0-amount royalty-only refund
      // counts as a refund but leaves the status alone).
      const res = await sql`
        with v(trade_no, fen) as (values ${values})
        update srv_trades set
          refunded_fen = srv_trades.refunded_fen + v.fen,
          refund_count = srv_trades.refund_count + 1,
          status = case
            when v.fen = 0 then srv_trades.status
            when srv_trades.refunded_fen + v.fen >= srv_trades.paid_fen then 'fully_refunded'
            else 'partially_refunded' end,
          updated_at = ${now}
        from v
        where srv_trades.trade_no = v.trade_no`.execute(trx);
      updatedTrades += Number(res.numAffectedRows ?? 0n);
    }
    if (updatedTrades !== refunds.length) {
      anomalies.push(`${refunds.length - updatedTrades} refunded trade(s) are not registered here`);
    }
    const successCount = refunds.length;
    if (successCount !== n.successNum) {
      anomalies.push(
        `success_num says ${n.successNum} but result_details has ${successCount} SUCCESS record(s)`,
      );
    }
    return { successFen, anomalies, failed };
  }

  const service: NotificationService = {
    async handleBatchNotify(incoming) {
      const receivedAt = nowIso(clock);
      const raw = Buffer.from(incoming.body).toString('latin1');
      const reject = (reasonCode: string, reason: string, extra: Partial<RecordInput> = {}) =>
        recordOnly(incoming, receivedAt, {
          kind: 'batch_refund_notify',
          verdict: 'rejected',
          reasonCode,
          reason,
          batchNo: null,
          charset: null,
          ...extra,
        });

      const batchNo = peekParam(raw, 'batch_no');
      if (batchNo === null) {
        return reject('MISSING_BATCH_NO', 'the body carries no (single, well-formed) batch_no');
      }
      const batch = await database.db
        .selectFrom('srv_batches')
        .select(['batch_no', 'partner', 'charset', 'applied_at', 'applied_notify_id', 'success_num'])
        .where('batch_no', '=', batchNo)
        .executeTakeFirst();
      if (!batch) {
        return reject(
          'UNKNOWN_BATCH',
          `no batch ${batchNo} was created here; a notification for it is not trusted`,
          {
            batchNo,
          },
        );
      }
      if (batch.partner !== config.partner) {
        return reject(
          'FOREIGN_PARTNER',
          `batch ${batchNo} belongs to partner ${batch.partner}, not ${config.partner}`,
          {
            batchNo,
          },
        );
      }
      const charset = normalizeCharset(batch.charset) ?? config.inputCharset;
      let n: BatchRefundNotification;
      try {
        const params = checkNotificationSignature(incoming.body, charset, config.verifyingKey);
        n = parseBatchRefundNotification(params);
      } catch (err) {
        const d = describe(err);
        if (d.code === 'INTERNAL') throw err;
        const hint = err instanceof NotificationError ? ` — ${err.hint}` : '';
        return reject(d.code, `${d.message}${hint}`, { batchNo, charset });
      }
      if (n.batchNo !== batchNo) {
        return reject('MALFORMED_BODY', 'batch_no read from the raw body differs from the decoded one', {
          batchNo,
          charset,
        });
      }
      const common = { batchNo, notifyId: n.notifyId, notifyTime: n.notifyTime, charset };

      const duplicate = async (extraNote?: string) => {
        const differs = batch.success_num !== null && Number(batch.success_num) !== n.successNum;
        return recordOnly(incoming, receivedAt, {
          kind: 'batch_refund_notify',
          verdict: 'duplicate',
          reasonCode: differs ? 'CONTENT_DIFFERS' : 'ALREADY_APPLIED',
          reason: `batch ${batchNo} was already applied; nothing changed${extraNote ? ` (${extraNote})` : ''}${differs ? `; note: success_num ${n.successNum} differs from the applied ${batch.success_num}` : ''}`,
          ...common,
        });
      };

      if (batch.applied_at !== null) {
        // Already applied. The same notify_id was verified when it was applied; a different one must prove itself.
        if (batch.applied_notify_id !== n.notifyId) {
          try {
            await verifyRemote(n.notifyId);
          } catch (err) {
            const d = describe(err);
            return reject(d.code, d.message, common);
          }
          return duplicate(
            `a different notify_id (${n.notifyId}) than the applied ${batch.applied_notify_id}`,
          );
        }
        return duplicate();
      }

      try {
        await verifyRemote(n.notifyId);
      } catch (err) {
        const d = describe(err);
        if (d.code === 'INTERNAL') throw err;
        return reject(d.code, d.message, common);
      }

      let id: number | null;
      try {
        id = await apply(incoming, receivedAt, n, charset);
      } catch (err) {
        if (isUniqueViolation(err)) id = null;
        else throw err;
      }
      if (id === null) {
        // Another delivery (or another server instance) applied it between our read and our transaction.
        const again = await database.db
          .selectFrom('srv_batches')
          .select(['success_num'])
          .where('batch_no', '=', batchNo)
          .executeTakeFirst();
        batch.success_num = again?.success_num ?? null;
        return duplicate('applied by a concurrent delivery');
      }
      hooks.batchFinished(batchNo);
      log.info({ batchNo, notifyId: n.notifyId, successNum: n.successNum }, 'batch notification applied');
      return {
        answer: 'success',
        verdict: 'accepted',
        reasonCode: null,
        reason: null,
        batchNo,
        notificationId: id,
      };
    },

    async handleTradeNotify(incoming) {
      const receivedAt = nowIso(clock);
      const reject = (reasonCode: string, reason: string, extra: Partial<RecordInput> = {}) =>
        recordOnly(incoming, receivedAt, {
          kind: TRADE_NOTIFY_TYPE,
          verdict: 'rejected',
          reasonCode,
          reason,
          batchNo: null,
          charset: null,
          ...extra,
        });
      let params: Record<string, string>;
      let charset: Charset = config.inputCharset;
      try {
        try {
          params = checkNotificationSignature(incoming.body, charset, config.verifyingKey);
        } catch (err) {
          // Trades may have been paid with the other charset: the SDK tells us when that one verifies.
          if (!(err instanceof NotificationError && err.code === 'CHARSET_MISMATCH')) throw err;
          charset = charset === 'utf-8' ? 'gbk' : 'utf-8';
          params = checkNotificationSignature(incoming.body, charset, config.verifyingKey);
        }
      } catch (err) {
        const d = describe(err);
        if (d.code === 'INTERNAL') throw err;
        return reject(d.code, d.message);
      }
      const tradeNo = params['trade_no'] ?? null;
      const notifyId = params['notify_id'] ?? '';
      const common = { tradeNo, notifyId, notifyTime: params['notify_time'] ?? null, charset };
      if (params['notify_type'] !== TRADE_NOTIFY_TYPE) {
        return reject(
          'WRONG_NOTIFY_TYPE',
          `notify_type is ${JSON.stringify(params['notify_type'] ?? null)}; batch refund notifications belong on /alipay/notify`,
          common,
        );
      }
      if (notifyId === '' || tradeNo === null || tradeNo === '') {
        return reject('MALFORMED_CONTENT', 'notify_id and trade_no are required', common);
      }
      const seen = await database.db
        .selectFrom('srv_notifications')
        .select('id')
        .where('kind', '=', TRADE_NOTIFY_TYPE)
        .where('notify_id', '=', notifyId)
        .where('verdict', '=', 'accepted')
        .executeTakeFirst();
      if (seen) {
        return recordOnly(incoming, receivedAt, {
          kind: TRADE_NOTIFY_TYPE,
          verdict: 'duplicate',
          reasonCode: 'ALREADY_RECORDED',
          reason: `notification ${notifyId} was already recorded (#${seen.id}); nothing changed`,
          batchNo: null,
          ...common,
        });
      }
      try {
        await verifyRemote(notifyId);
      } catch (err) {
        const d = describe(err);
        if (d.code === 'INTERNAL') throw err;
        return reject(d.code, d.message, common);
      }
      const tradeStatus = params['trade_status'] ?? '';
      const refundStatus = params['refund_status'] ?? '';
      const totalFen = parseYuan(params['total_fee'] ?? '');
      const { reasonCode, reason, id } = await withTransaction(database, async (trx) => {
        const now = nowIso(clock);
        const trade = await trx
          .selectFrom('srv_trades')
          .selectAll()
          .where('trade_no', '=', tradeNo)
          .executeTakeFirst();
        let code: string;
        let text: string;
        if (!trade) {
          if (
            (tradeStatus === 'TRADE_SUCCESS' || tradeStatus === 'TRADE_FINISHED') &&
            refundStatus === '' &&
            totalFen
          ) {
            await trx
              .insertInto('srv_trades')
              .values({
                trade_no: tradeNo,
                out_trade_no: params['out_trade_no'] ?? null,
                partner: config.partner,
                paid_fen: totalFen,
                status: 'paid',
                royalty_json: null,
                subject: params['subject'] ?? null,
                buyer: params['buyer_email'] ?? params['buyer_id'] ?? null,
                paid_at: params['gmt_payment'] ?? null,
                open_batch_no: null,
                gateway_status: tradeStatus,
                reconcile_note: null,
                created_at: now,
                updated_at: now,
              })
              .execute();
            code = 'REGISTERED';
            text = `paid trade ${tradeNo} (${formatYuan(totalFen)} yuan) registered from the gateway's notification`;
          } else {
            code = 'UNKNOWN_TRADE';
            text = `trade ${tradeNo} is not registered here (${tradeStatus}${refundStatus ? `, ${refundStatus}` : ''}); recorded only`;
          }
        } else {
          const paid = Number(trade.paid_fen);
          const refunded = Number(trade.refunded_fen);
          const problems: string[] = [];
          if (totalFen !== null && totalFen !== paid) {
            problems.push(`the gateway says ${formatYuan(totalFen)} yuan was paid, here ${formatYuan(paid)}`);
          }
          const pending = refundStatus === 'REFUND_SUCCESS' && trade.open_batch_no !== null;
          if (
            !pending &&
            refundStatus === 'REFUND_SUCCESS' &&
            tradeStatus === 'TRADE_CLOSED' &&
            refunded < paid
          ) {
            problems.push(
              `the gateway reports the trade fully refunded and closed, here ${formatYuan(refunded)} of ${formatYuan(paid)} yuan is refunded${trade.open_batch_no ? ` (batch ${trade.open_batch_no} is still open: its notification will apply the refund)` : ''}`,
            );
          }
          if (refundStatus === 'REFUND_SUCCESS' && refunded === 0 && !trade.open_batch_no) {
            problems.push('the gateway reports a refund that no batch of this server has applied');
          }
          code = problems.length > 0 ? 'DISCREPANCY' : pending ? 'AWAITING_BATCH_NOTIFICATION' : 'CONSISTENT';
          text =
            problems.length > 0
              ? `${problems.join('; ')}. Refunded amounts change only with batch notifications; check the trade.`
              : pending
                ? `the gateway reports a refund (${tradeStatus}, ${refundStatus}) of open batch ${trade.open_batch_no}, whose notification has not been applied yet; it will apply the amount (refunded here so far: ${formatYuan(refunded)} of ${formatYuan(paid)} yuan)`
                : `consistent with local state (${tradeStatus}${refundStatus ? `, ${refundStatus}` : ''}; refunded ${formatYuan(refunded)} of ${formatYuan(paid)} yuan)`;
          await trx
            .updateTable('srv_trades')
            .set({
              gateway_status: tradeStatus || trade.gateway_status,
              reconcile_note: problems.length > 0 ? text : null,
              updated_at: now,
            })
            .where('trade_no', '=', tradeNo)
            .execute();
        }
        const row = await trx
          .insertInto('srv_notifications')
          .values(
            rowFor(incoming, receivedAt, {
              kind: TRADE_NOTIFY_TYPE,
              verdict: 'accepted',
              reasonCode: code,
              reason: text,
              batchNo: null,
              appliedAt: now,
              ...common,
            }),
          )
          .returning('id')
          .executeTakeFirstOrThrow();
        return { reasonCode: code, reason: text, id: Number(row.id) };
      });
      return {
        answer: 'success',
        verdict: 'accepted',
        reasonCode,
        reason,
        batchNo: null,
        notificationId: id,
      };
    },

    async applyBatchResult(n, source) {
      let id: number | null;
      try {
        id = await apply({ body: source.body }, nowIso(clock), n, source.charset, source);
      } catch (err) {
        if (isUniqueViolation(err)) id = null;
        else throw err;
      }
      if (id !== null) {
        hooks.batchFinished(n.batchNo);
        log.info({ batchNo: n.batchNo, via: source.kind, successNum: n.successNum }, 'batch result applied');
      }
      return id;
    },

    async list(query = {}) {
      const pageSize = clampLimit(query.pageSize, 50);
      const page = Math.max(1, Math.floor(query.page ?? 1));
      let q = database.db.selectFrom('srv_notifications');
      if (query.batchNo !== undefined) q = q.where('batch_no', '=', query.batchNo);
      if (query.tradeNo !== undefined) q = q.where('trade_no', '=', query.tradeNo);
      if (query.verdict !== undefined) q = q.where('verdict', '=', query.verdict);
      if (query.kind !== undefined) q = q.where('kind', '=', query.kind);
      const text = query.q?.trim();
      if (text !== undefined && text !== '') {
        const like = `%${text.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
        q = q.where((eb) =>
          eb.or([
            sql<boolean>`batch_no like ${like} escape '\\'`,
            sql<boolean>`notify_id like ${like} escape '\\'`,
            sql<boolean>`trade_no like ${like} escape '\\'`,
            sql<boolean>`reason like ${like} escape '\\'`,
            sql<boolean>`raw_body like ${like} escape '\\'`,
            eb('reason_code', '=', text),
          ]),
        );
      }
      const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await q
        .select([
          'id',
          'kind',
          'batch_no',
          'trade_no',
          'notify_id',
          'notify_time',
          'verdict',
          'reason_code',
          'reason',
          'remote_addr',
          'charset',
          'received_at',
          'applied_at',
          'response',
        ])
        .orderBy('id', 'desc')
        .limit(pageSize)
        .offset((page - 1) * pageSize)
        .execute();
      return { items: rows.map(view), total: Number(total.n), page, pageSize };
    },

    async get(id) {
      const r = await database.db
        .selectFrom('srv_notifications')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (!r) return null;
      let params: Record<string, string> | null = null;
      try {
        const cs = normalizeCharset(r.charset ?? '') ?? config.inputCharset;
        params = Object.fromEntries(parseFormBody(r.raw_body, cs));
      } catch {
        params = null;
      }
      return {
        ...view(r),
        rawBody: r.raw_body,
        headers: JSON.parse(r.headers_json) as Record<string, string>,
        params,
      };
    },
  };
  return service;
}
